#include <dlfcn.h>
int deep_value(void);
int top(void) { return deep_value(); }
/* dlopen from a library searches that library's RUNTIME_PATH. */
const char *open_later(void) {
    void *h = dlopen("liblater.so", RTLD_NOW);
    return h ? "found liblater.so through its RUNTIME_PATH" : dlerror();
}
