#include <dlfcn.h>
#include <stddef.h>
int compute(int x) { return x * 2; }
const char *next_after_second(void) {
    void *p = dlsym(RTLD_NEXT, "compute");
    return p ? "found" : dlerror();
}
