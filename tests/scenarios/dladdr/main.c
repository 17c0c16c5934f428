/* dladdr maps function pointers and data addresses back to the module and
 * the nearest symbol at or below them. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int program_table[8];
int program_fn(int x) { return x + 1; }

static void show(const char *what, const void *addr) {
    Dl_info info;
    if (!dladdr(addr, &info)) { printf("%s: not in any module\n", what); return; }
    printf("%s: file %s, symbol %s, offset %ld\n", what, info.dli_fname,
           info.dli_sname ? info.dli_sname : "(none)",
           info.dli_saddr ? (long)((const char *)addr - (const char *)info.dli_saddr) : -1L);
}

int main(void) {
    void *h = dlopen("/t/libaddr.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    show("exported function", dlsym(h, "target_fn"));
    int *table = (int *)dlsym(h, "table");
    show("inside an exported array", &table[5]);
    show("exported string", dlsym(h, "label"));
    void *(*get_hidden)(void) = (void *(*)(void))dlsym(h, "get_hidden");
    show("static function", get_hidden());
    show("program function", (void *)program_fn);
    show("program data", &program_table[3]);
    void *heap = malloc(16);
    show("heap block", heap);
    /* dlinfo: the link_map list (program first, in load order) and the origin. */
    struct link_map *map = 0;
    if (dlinfo(h, RTLD_DI_LINKMAP, &map) == 0) {
        struct link_map *first = map;
        while (first->l_prev) first = first->l_prev;
        printf("link_map of the library: %s; the list:", map->l_name);
        for (struct link_map *m = first; m; m = m->l_next) printf(" %s", m->l_name);
        printf("\n");
    }
    char origin[256];
    if (dlinfo(h, RTLD_DI_ORIGIN, origin) == 0) printf("origin: %s\n", origin);
    printf("dlinfo(99): %d (%s)\n", dlinfo(h, 99, origin), dlerror());
    void *fn = dlsym(h, "target_fn");
    dlclose(h);
    show("function of a closed library", fn);
    return 0;
}
