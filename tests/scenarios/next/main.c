/* RTLD_NEXT: each module finds the next definition after itself in the
 * global scope (program, libdl, then RTLD_GLOBAL libraries in load order). */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    if (!dlopen("/t/libfirst.so", RTLD_NOW | RTLD_GLOBAL) || !dlopen("/t/libsecond.so", RTLD_NOW | RTLD_GLOBAL)) {
        printf("dlopen: %s\n", dlerror());
        return 1;
    }
    int (*compute)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "compute");
    int (*next)(int) = (int (*)(int))dlsym(RTLD_NEXT, "compute");
    printf("compute(5) = %d\n", compute(5));
    printf("RTLD_NEXT from the program is the first library's: %s\n", next == compute ? "yes" : "no");
    const char *(*last)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "next_after_second");
    printf("after the last library: %s\n", last());
    return 0;
}
