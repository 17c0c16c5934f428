/* Where libraries are found: a path is used as is; a bare name searches
 * LD_LIBRARY_PATH, then the requesting module's RUNTIME_PATH ($ORIGIN and
 * ${ORIGIN} are its directory), then /lib and /usr/lib; only preopened
 * directories are reachable. */
#include <dlfcn.h>
#include <stdio.h>

static void *try(const char *name) {
    void *h = dlopen(name, RTLD_NOW);
    printf("dlopen(%s): %s\n", name, h ? "ok" : dlerror());
    return h;
}

int main(void) {
    void *top = try("/t/plugins/libtop.so");        /* NEEDs libdeep.so via $ORIGIN/deps */
    if (top) {
        int (*deep)(void) = (int (*)(void))dlsym(top, "deep_value");
        printf("deep_value() = %d\n", deep ? deep() : -1);
        const char *(*later)(void) = (const char *(*)(void))dlsym(top, "open_later");
        printf("libtop's own dlopen: %s\n", later());
    }
    try("/t/plugins/libbraced.so");                 /* NEEDs libother.so via ${ORIGIN}/../other */
    try("libfromlp.so");                             /* LD_LIBRARY_PATH=/t/lp */
    try("libdeep.so");                               /* already loaded: found by name */
    try("libnowhere.so");
    try("/etc/passwd");                              /* exists on the host, not preopened */
    try("../../../../etc/passwd");
    return 0;
}
