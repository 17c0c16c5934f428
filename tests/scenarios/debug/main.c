/* LD_DEBUG=libs,symbols,bindings,statistics traces the loader on stderr. */
#include <dlfcn.h>
#include <stdio.h>

int program_value = 5;

int main(void) {
    void *h = dlopen("libtraced.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*f)(void) = (int (*)(void))dlsym(h, "traced");
    printf("traced() = %d\n", f());
    return 0;
}
