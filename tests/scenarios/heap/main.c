/* The program's heap and libdl's never overlap: the program fills megabytes
 * of malloc'd memory with a pattern while plugins load (libdl's heap grows
 * for their data) and the plugins fill their own data; every byte is then
 * checked on both sides. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNKS 48
#define CHUNK (64 * 1024 + 123)

int main(void) {
    unsigned char *chunks[CHUNKS];
    void *handles[3];
    const char *paths[3] = {"/t/libbig1.so", "/t/libbig2.so", "/t/libbig3.so"};
    for (int i = 0; i < CHUNKS; i++) {
        chunks[i] = malloc(CHUNK);
        if (!chunks[i]) { printf("malloc failed\n"); return 1; }
        memset(chunks[i], i + 1, CHUNK);
        if (i % 16 == 8) {
            int k = i / 16;
            handles[k] = dlopen(paths[k], RTLD_NOW);
            if (!handles[k]) { printf("dlopen: %s\n", dlerror()); return 1; }
            int (*fill)(int) = (int (*)(int))dlsym(handles[k], "fill");
            printf("plugin %d bss was zero: %s\n", k + 1, fill(100 + k) ? "yes" : "no");
        }
    }
    int bad = 0;
    for (int i = 0; i < CHUNKS; i++)
        for (int j = 0; j < CHUNK; j++)
            if (chunks[i][j] != (unsigned char)(i + 1)) bad++;
    printf("program heap bytes corrupted: %d\n", bad);
    for (int k = 0; k < 3; k++) {
        int (*check)(int) = (int (*)(int))dlsym(handles[k], "check");
        printf("plugin %d data intact: %s\n", k + 1, check(100 + k) ? "yes" : "no");
    }
    return 0;
}
