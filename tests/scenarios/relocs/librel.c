extern const char program_name[];

static int count;
int *pcount = &count;
const char *who_loaded_me = program_name;

static int inc(int x) { count++; return x + 1; }
static int dbl(int x) { count += 2; return x * 2; }
int neg(int x) { count += 3; return -x; }

struct entry { const char *name; int (*fn)(int); int *counter; };
struct entry table[] = {
    {"inc", inc, &count},
    {"dbl", dbl, &count},
    {"neg", neg, &count},
};

/* The address of an exported function taken inside the plugin (through
 * GOT.func) is the same as the table entry's. */
int check(void) { return table[2].fn == neg && pcount == &count; }
