/* A diamond of NEEDED libraries: libtop needs libleft and libright, which
 * both need libbase. Each is loaded once, initialised after what it needs,
 * finalised before it, and dlsym(handle) searches the tree breadth-first. */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    void *top = dlopen("/t/libtop.so", RTLD_NOW | RTLD_LOCAL);
    if (!top) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*top_value)(void) = (int (*)(void))dlsym(top, "top_value");
    printf("top_value() = %d\n", top_value());
    /* Found through the handle's dependencies, breadth-first. */
    int *base_counter = (int *)dlsym(top, "base_counter");
    const char *(*who)(void) = (const char *(*)(void))dlsym(top, "who");
    printf("base_counter = %d, who() = %s\n", base_counter ? *base_counter : -1, who ? who() : "?");
    /* Not in the global scope: top was opened RTLD_LOCAL. */
    printf("RTLD_DEFAULT finds top_value: %s\n", dlsym(RTLD_DEFAULT, "top_value") ? "yes" : "no");
    /* A dependency is already loaded: opening it gives its handle, one more reference. */
    void *base = dlopen("libbase.so", RTLD_NOW | RTLD_NOLOAD);
    printf("libbase.so already loaded: %s\n", base ? "yes" : "no");
    dlclose(base);
    /* A library whose dependency is missing fails as a whole, naming it. */
    void *broken = dlopen("/t/libbroken.so", RTLD_NOW);
    printf("libbroken.so: %s\n", broken ? "loaded" : dlerror());
    printf("closing top\n");
    dlclose(top);
    printf("libbase.so still loaded: %s\n", dlopen("libbase.so", RTLD_NOW | RTLD_NOLOAD) ? "yes" : "no");
    return 0;
}
