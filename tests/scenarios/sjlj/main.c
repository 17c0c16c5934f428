/* setjmp/longjmp across modules: one __c_longjmp tag for the process, so a
 * plugin can longjmp to the program's setjmp, and use setjmp itself. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdio.h>

int main(void) {
    void *h = dlopen("/t/libjump.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    void (*bail)(jmp_buf, int) = (void (*)(jmp_buf, int))dlsym(h, "bail");
    int (*local_try)(int) = (int (*)(int))dlsym(h, "local_try");
    jmp_buf env;
    int r = setjmp(env);
    if (r == 0) {
        bail(env, 41);
        printf("not reached\n");
    } else {
        printf("program caught the plugin's longjmp: %d\n", r);
    }
    printf("plugin's own setjmp/longjmp: %d\n", local_try(9));
    return 0;
}
