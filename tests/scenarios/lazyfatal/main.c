/* Calling a function RTLD_LAZY left unbound, that nothing defined: a clear
 * fatal error naming the symbol and the module, and exit status 125 (WASI runtimes reserve 126 and up). */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    void *h = dlopen("/t/libnever.so", RTLD_LAZY);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*call_it)(void) = (int (*)(void))dlsym(h, "call_it");
    printf("calling\n");
    fflush(stdout);
    call_it();
    printf("not reached\n");
    return 0;
}
