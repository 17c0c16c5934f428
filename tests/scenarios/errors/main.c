/* Every failure gives NULL and a precise dlerror(); the program continues,
 * and a failed dlopen leaves nothing loaded. */
#include <dlfcn.h>
#include <stdio.h>

int program_add(int a, int b) { return a + b; }

static void try_open(const char *path, int mode) {
    void *h = dlopen(path, mode);
    const char *e = dlerror();
    printf("dlopen(%s): %s\n", path ? path : "NULL", h ? "ok" : "NULL");
    printf("  dlerror: %s\n", e ? e : "(null)");
}

int main(void) {
    try_open("/t/missing.so", RTLD_NOW);
    try_open("libmissing.so", RTLD_NOW);
    try_open("/t/notwasm.so", RTLD_NOW);
    try_open("/t/empty.so", RTLD_NOW);
    try_open("/t/nodylink.so", RTLD_NOW);
    try_open("/t/truncated.so", RTLD_NOW);
    try_open("/t/libundef.so", RTLD_NOW);
    try_open("/t/libsig.so", RTLD_NOW);
    try_open("/t", RTLD_NOW);
    try_open("/t/hugemem.so", RTLD_NOW);
    try_open("/t/hugetable.so", RTLD_NOW);
    try_open("/t/tagimport.so", RTLD_NOW);
    try_open("/t/foreign.so", RTLD_NOW);
    try_open("/t/libok.so", RTLD_NOW | RTLD_LAZY);
    try_open("/t/libok.so", 0);
    try_open("/t/libok.so", RTLD_NOW | RTLD_LOCAL | RTLD_GLOBAL);
    try_open("/t/libok.so", RTLD_NOW | 0x10000);

    /* Nothing of the failed loads is left behind. */
    printf("libundef.so loaded after failure: %s\n", dlopen("/t/libundef.so", RTLD_NOW | RTLD_NOLOAD) ? "yes" : "no");
    printf("dlerror after NOLOAD miss: %s\n", dlerror() ? "set" : "(null)");

    void *h = dlopen("/t/libok.so", RTLD_NOW);
    if (!h) { printf("dlopen libok: %s\n", dlerror()); return 1; }
    printf("dlsym(nope): %s\n", dlsym(h, "nope") ? "found" : "NULL");
    printf("  dlerror: %s\n", dlerror());
    printf("  dlerror again: %s\n", dlerror() ? "set" : "(null)");
    printf("dlsym(RTLD_DEFAULT, nope): %s\n", dlsym(RTLD_DEFAULT, "nope") ? "found" : "NULL");
    printf("  dlerror: %s\n", dlerror());
    printf("dlsym(bad handle): %s\n", dlsym((void *)12345, "ok") ? "found" : "NULL");
    printf("  dlerror: %s\n", dlerror());
    printf("dlclose(bad handle): %d\n", dlclose((void *)12345));
    printf("  dlerror: %s\n", dlerror());

    int (*ok)(void) = (int (*)(void))dlsym(h, "ok");
    printf("still working: ok() = %d\n", ok ? ok() : -1);
    printf("dlclose: %d\n", dlclose(h));
    printf("dlsym after close: %s\n", dlsym(h, "ok") ? "found" : "NULL");
    printf("  dlerror: %s\n", dlerror());
    return 3;
}
