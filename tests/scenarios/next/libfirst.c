#include <dlfcn.h>
int compute(int x) {
    int (*next)(int) = (int (*)(int))dlsym(RTLD_NEXT, "compute");
    return 10 + (next ? next(x) : -1000);
}
