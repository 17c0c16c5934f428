/* The hostile corpus driver: dlopen each file named on the command line, or
 * each file of a directory given as the only argument (sorted by name), and
 * print "NAME: dlerror text" (or "NAME: loaded", then dlclose it). A final
 * line proves the program kept running after every refusal.
 *
 * A failure the engine reports ("module_compile failed (host error N): ...",
 * "instantiate failed ..."): engines word it differently and do not all
 * refuse at the same step (V8 may refuse at compile time what wasmtime
 * refuses at instantiation), so stdout says "refused by the engine" and the
 * full text goes to stderr; stdout is then the same on every runner.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int refused, loaded;

static void try_one(const char *path, const char *label) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h) {
        loaded++;
        /* Use it: a lookup that hits (if it defines hostile_fn) and one that misses. */
        void *f = dlsym(h, "hostile_fn");
        void *g = dlsym(h, "hostile_no_such_symbol");
        printf("%s: loaded%s%s\n", label, f ? ", hostile_fn found" : "", g ? ", BOGUS SYMBOL FOUND" : "");
        if (dlclose(h) != 0)
            printf("%s: dlclose failed: %s\n", label, dlerror());
        return;
    }
    refused++;
    const char *e = dlerror();
    if (!e) {
        printf("%s: dlopen failed WITHOUT a dlerror message\n", label);
        return;
    }
    if (strstr(e, " failed (host error ")) {
        fprintf(stderr, "%s: %s\n", label, e);
        printf("%s: refused by the engine\n", label);
        return;
    }
    printf("%s: %s\n", label, e);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR | FILE...\n", argv[0]);
        return 2;
    }
    DIR *d = argc == 2 ? opendir(argv[1]) : NULL;
    if (d) {
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *ent;
        while ((ent = readdir(d)) != NULL) {
            if (ent->d_name[0] == '.')
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                names = realloc(names, cap * sizeof *names);
            }
            names[n++] = strdup(ent->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp);
        for (size_t i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
            try_one(path, names[i]);
        }
    } else {
        for (int i = 1; i < argc; i++)
            try_one(argv[i], argv[i]);
    }
    /* Still alive, and dlopen still works. */
    void *self = dlopen(NULL, RTLD_NOW);
    printf("hostile: %d refused, %d loaded; still running, dlopen(NULL) %s\n", refused, loaded,
           self ? "works" : "FAILED");
    return 0;
}
