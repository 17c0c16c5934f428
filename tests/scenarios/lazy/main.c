/* Bindings made later through generated trampolines: a cycle of libraries
 * calling each other, and RTLD_LAZY leaving a function unbound until a
 * library defining it joins the global scope. Calls go wasm to wasm through
 * a table slot; nothing goes through the host. */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    void *a = dlopen("/t/libping.so", RTLD_NOW);  /* libping <-> libpong */
    if (!a) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*ping)(int) = (int (*)(int))dlsym(a, "ping");
    printf("ping(6) through the cycle = %d\n", ping(6));

    printf("RTLD_NOW: %s\n", dlopen("/t/liblazy.so", RTLD_NOW) ? "loaded" : dlerror());
    void *lz = dlopen("/t/liblazy.so", RTLD_LAZY);
    printf("RTLD_LAZY: %s\n", lz ? "loaded" : dlerror());
    int (*ready)(void) = (int (*)(void))dlsym(lz, "ready");
    int (*use_later)(int) = (int (*)(int))dlsym(lz, "use_later");
    printf("ready() = %d (needs nothing unbound)\n", ready());
    dlopen("/t/libprovider.so", RTLD_NOW | RTLD_GLOBAL);
    printf("use_later(5) after the definer joined = %d\n", use_later(5));
    return 0;
}
