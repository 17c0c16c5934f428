/* Calls across the boundary with every value type and many arguments,
 * variadic functions of the program's libc and the program, qsort with a
 * plugin's comparator, and function pointers passed both ways. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>

int program_sum(int n, ...) {
    va_list ap;
    va_start(ap, n);
    int s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, int);
    va_end(ap);
    return s;
}

double program_scale(double x, float f, long long n) { return x * f + (double)n; }

static int program_inc(int x) { return x + 1; }

int main(void) {
    void *h = dlopen("/t/libcalls.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int64_t (*mix)(int64_t, float, double) = (int64_t (*)(int64_t, float, double))dlsym(h, "mix");
    double (*many)(int, long long, float, double, int, long long, float, double, int, long long, float, double, int) =
        (double (*)(int, long long, float, double, int, long long, float, double, int, long long, float, double, int))dlsym(h, "many");
    printf("mix = %lld\n", (long long)mix(INT64_C(1) << 40, 2.5f, 0.25));
    printf("many = %.3f\n", many(1, 2LL << 33, 3.5f, 4.25, 5, -6, 7.5f, 8.125, 9, 10, 11.5f, 12.75, 13));
    int (*variadic)(void) = (int (*)(void))dlsym(h, "call_variadic");
    printf("call_variadic = %d\n", variadic());
    double (*scaled)(void) = (double (*)(void))dlsym(h, "call_scale");
    printf("call_scale = %.2f\n", scaled());
    int v[] = {42, 7, 19, -3, 100, 0, 7};
    void (*sort_them)(int *, int) = (void (*)(int *, int))dlsym(h, "sort_them");
    sort_them(v, 7);
    printf("sorted:");
    for (int i = 0; i < 7; i++) printf(" %d", v[i]);
    printf("\n");
    int (*(*get_twice)(void))(int) = (int (*(*)(void))(int))dlsym(h, "get_twice");
    int (*twice)(int) = get_twice();
    int (*compose)(int (*)(int), int) = (int (*)(int (*)(int), int))dlsym(h, "compose");
    printf("twice(21) = %d, compose(program_inc, 4) = %d\n", twice(21), compose(program_inc, 4));
    return 0;
}
