/* 256 KiB of zero-initialised data plus an initialised table. */
static unsigned char area[256 * 1024];
static int table[1000] = {1};
int fill(int v) { int z = 1; for (unsigned i = 0; i < sizeof area; i++) if (area[i]) z = 0; for (unsigned i = 0; i < sizeof area; i++) area[i] = (unsigned char)v; table[999] = v; return z; }
int check(int v) {
    for (unsigned i = 0; i < sizeof area; i++) if (area[i] != (unsigned char)v) return 0;
    return table[0] == 1 && table[999] == v;
}
