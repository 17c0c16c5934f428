/* Data relocations: initialised pointers in the plugin to its own data and
 * functions, and to the program's data, are right before any code runs. */
#include <dlfcn.h>
#include <stdio.h>

const char program_name[] = "relocs-main";

struct entry { const char *name; int (*fn)(int); int *counter; };

int main(void) {
    void *h = dlopen("/t/librel.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    struct entry *table = (struct entry *)dlsym(h, "table");
    int **pcount = (int **)dlsym(h, "pcount");
    const char **who = (const char **)dlsym(h, "who_loaded_me");
    int (*check)(void) = (int (*)(void))dlsym(h, "check");
    if (!table || !pcount || !who || !check) { printf("dlsym: %s\n", dlerror()); return 1; }
    for (int i = 0; i < 3; i++)
        printf("%s(10) = %d, counter now %d\n", table[i].name, table[i].fn(10), *table[i].counter);
    printf("*pcount = %d\n", **pcount);
    printf("who_loaded_me = %s\n", *who);
    printf("check() = %d\n", check());
    return 0;
}
