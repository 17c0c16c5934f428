/* dlsym gives a callable function pointer and the address of data. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
    void *h = dlopen("/t/libsym.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*scale)(int) = (int (*)(int))dlsym(h, "scale");
    int *factor = (int *)dlsym(h, "factor");
    long long *big = (long long *)dlsym(h, "big");
    const char **motto = (const char **)dlsym(h, "motto");
    if (!scale || !factor || !big || !motto) { printf("dlsym: %s\n", dlerror()); return 1; }
    printf("scale(7) = %d\n", scale(7));
    printf("factor = %d\n", *factor);
    *factor = 5;  /* the plugin sees writes through the address */
    printf("scale(7) after factor=5: %d\n", scale(7));
    printf("big = %lld\n", *big);
    printf("motto = %s\n", *motto);
    printf("same handle again: %s\n", dlopen("/t/libsym.so", RTLD_NOW) == h ? "yes" : "no");
    printf("dlerror after success: %s\n", dlerror() ? "set" : "(null)");
    return 0;
}
