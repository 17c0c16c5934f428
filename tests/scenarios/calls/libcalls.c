#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int program_sum(int n, ...);
double program_scale(double x, float f, long long n);

int64_t mix(int64_t a, float b, double c) { return a + (int64_t)(b * 4) + (int64_t)(c * 8); }

double many(int a, long long b, float c, double d, int e, long long f, float g, double h, int i, long long j,
            float k, double l, int m) {
    return a + (double)b / (1LL << 33) + c + d + e + f + g + h + i + j + k + l + m;
}

int call_variadic(void) {
    char buf[64];
    snprintf(buf, sizeof buf, "%d-%s-%.1f", 7, "x", 2.5);  /* the program's libc, variadic */
    printf("plugin formatted: %s\n", buf);
    return program_sum(4, 10, 20, 30, 40);
}

double call_scale(void) { return program_scale(1.5, 4.0f, 1000000000000LL); }

static int by_value(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void sort_them(int *v, int n) { qsort(v, n, sizeof *v, by_value); }

static int twice(int x) { return 2 * x; }
int (*get_twice(void))(int) { return twice; }
int compose(int (*f)(int), int x) { return twice(f(x)); }
