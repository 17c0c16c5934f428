/* A library bound before one whose data it uses. As a PIE, the program is
 * linked against libneeded.so (-lneeded: NEEDED before libc.so), so libdl
 * binds libneeded.so before libc.so is instantiated; its GOT.mem cells for
 * libc's data and its data relocations must still hold libc's addresses.
 * As a static program, the library is opened with dlopen. */
#include <dlfcn.h>
#include <stdio.h>

#ifdef LINKED
int needed_check(void);
#endif

int main(void) {
#ifdef LINKED
    int (*check)(void) = needed_check;
#else
    void *h = dlopen("/t/libneeded.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*check)(void) = (int (*)(void))dlsym(h, "needed_check");
#endif
    printf("needed_check() = %d\n", check());
    return 0;
}
