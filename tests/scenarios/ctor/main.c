/* A constructor runs, after data relocations, before dlopen returns. */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    printf("before dlopen\n");
    void *h = dlopen("/t/libctor.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    printf("after dlopen\n");
    int *ready = (int *)dlsym(h, "ready");
    printf("ready = %d\n", ready ? *ready : -1);
    return 0;
}
