/* The demo: load two plugins from the directory named on the command line,
 * call into them with a callback, and print what they return. */
#include <dlfcn.h>
#include <stdio.h>

typedef int (*callback_fn)(const char *who, int value);

static int report(const char *who, int value) {
    printf("main: %s called back with %d\n", who, value);
    return value * 10;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "plugins";
    const char *names[] = {"libgreet.so", "libcounter.so"};
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fprintf(stderr, "demo: %s\n", dlerror());
            return 1;
        }
        const char *(*name)(void) = (const char *(*)(void))dlsym(h, "plugin_name");
        int (*run)(const char *, callback_fn) = (int (*)(const char *, callback_fn))dlsym(h, "plugin_run");
        int *calls = (int *)dlsym(h, "plugin_calls");
        if (!name || !run || !calls) {
            fprintf(stderr, "demo: %s\n", dlerror());
            return 1;
        }
        printf("loaded %s from %s\n", name(), path);
        for (int k = 0; k < 2; k++)
            printf("%s returned %d\n", name(), run("WebAssembly", report));
        printf("%s kept its own count: %d calls\n", name(), *calls);
    }
    return 0;
}
