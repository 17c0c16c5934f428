/* Scopes and flags: RTLD_LOCAL libraries defining the same symbols side by
 * side, RTLD_GLOBAL making symbols visible to later libraries, RTLD_NOLOAD
 * promotion, RTLD_NODELETE, dlopen(NULL), weak undefined symbols bound later. */
#include <dlfcn.h>
#include <stdio.h>

int program_only(void) { return 7; }

static void *open_or_say(const char *path, int mode) {
    void *h = dlopen(path, mode);
    if (!h) printf("dlopen(%s): %s\n", path, dlerror());
    return h;
}

int main(void) {
    void *one = open_or_say("/t/libone.so", RTLD_NOW | RTLD_LOCAL);
    void *two = open_or_say("/t/libtwo.so", RTLD_LAZY);  /* RTLD_LOCAL is the default */
    const char *(*n1)(void) = (const char *(*)(void))dlsym(one, "name");
    const char *(*n2)(void) = (const char *(*)(void))dlsym(two, "name");
    int *c1 = (int *)dlsym(one, "counter"), *c2 = (int *)dlsym(two, "counter");
    int (*b1)(void) = (int (*)(void))dlsym(one, "bump"), (*b2)(void) = (int (*)(void))dlsym(two, "bump");
    b1(); b1(); b2();
    printf("side by side: %s counter=%d, %s counter=%d\n", n1(), *c1, n2(), *c2);
    printf("RTLD_DEFAULT name: %s\n", dlsym(RTLD_DEFAULT, "name") ? "found" : "not found");

    /* libuser.so needs provided(), defined only by libprovider.so. */
    open_or_say("/t/libuser.so", RTLD_NOW);
    void *prov = open_or_say("/t/libprovider.so", RTLD_NOW | RTLD_GLOBAL);
    void *user = open_or_say("/t/libuser.so", RTLD_NOW);
    int (*use)(void) = (int (*)(void))dlsym(user, "use_provided");
    printf("use_provided() = %d\n", use());

    /* RTLD_NOLOAD | RTLD_GLOBAL promotes an already loaded library. */
    printf("promote libone: %s\n", dlopen("/t/libone.so", RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL) == one ? "same handle" : "?");
    const char *(*n)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "name");
    printf("RTLD_DEFAULT name now: %s\n", n ? n() : "not found");
    dlclose(one);

    /* dlopen(NULL): the program and the global scope. */
    void *self = dlopen(NULL, RTLD_NOW);
    int (*po)(void) = (int (*)(void))dlsym(self, "program_only");
    printf("dlopen(NULL) finds program_only: %d, provided: %s\n", po ? po() : -1, dlsym(self, "provided") ? "yes" : "no");

    /* Weak undefined: NULL until a library defines it; a later one does not rebind. */
    void *weak = open_or_say("/t/libweak.so", RTLD_NOW);
    int (*probe)(void) = (int (*)(void))dlsym(weak, "probe");
    int (*probe_data)(void) = (int (*)(void))dlsym(weak, "probe_data");
    printf("weak hook before: %d, weak data before: %d\n", probe(), probe_data());
    /* A library defining them joins the global scope: the waiting module sees them. */
    open_or_say("/t/libhook.so", RTLD_NOW | RTLD_GLOBAL);
    printf("weak hook after RTLD_GLOBAL definer: %d, weak data: %d\n", probe(), probe_data());

    /* RTLD_NODELETE: dlclose does not unload. */
    void *nd = open_or_say("/t/libnodelete.so", RTLD_NOW | RTLD_NODELETE);
    int (*stays)(void) = (int (*)(void))dlsym(nd, "stays");
    dlclose(nd);
    printf("after dlclose, NODELETE library: %s, stays() = %d\n",
           dlopen("/t/libnodelete.so", RTLD_NOW | RTLD_NOLOAD) == nd ? "still loaded" : "gone", stays());

    /* Reference counts: two opens need two closes. */
    void *a = open_or_say("/t/libtwo.so", RTLD_NOW);
    printf("second open same handle: %s\n", a == two ? "yes" : "no");
    dlclose(a);
    printf("after one close: %s\n", dlopen("/t/libtwo.so", RTLD_NOW | RTLD_NOLOAD) ? "loaded" : "gone");
    dlclose(two); dlclose(two);
    printf("after all closes: %s\n", dlopen("/t/libtwo.so", RTLD_NOW | RTLD_NOLOAD) ? "loaded" : "gone");
    printf("dlsym on the closed handle: %s (%s)\n", dlsym(two, "name") ? "found" : "NULL", dlerror());
    (void)prov;
    return 0;
}
