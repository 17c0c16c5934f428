/* The benchmark program. Modes (argv[1]):
 *   dlopen LIB...        dlopen each (LD_DEBUG=statistics gives libdl's split),
 *                        print the guest-side wall time of each dlopen
 *   dlsym ROOT FIRST DEEP N   with ROOT (and what it NEEDs) loaded, time N
 *                        dlsym hits of FIRST (in ROOT) and DEEP (in its last
 *                        dependency), N misses, and a baseline loop of N
 *                        strcmp calls over a name of the same length; the
 *                        best of 5 interleaved rounds of each
 *   startup LIB SYM|none      dlopen LIB, call SYM (int(void)); "none": do nothing
 *   churn LIB SYM N      N dlopen/dlclose cycles: linear memory pages and the
 *                        function pointer (table slot) of SYM over time
 *
 * The same file builds natively (cc -O2 main.c -ldl) for the native column of
 * make bench. There, churn reports the process's resident set size (KiB, from
 * /proc/self/statm) in place of linear memory pages, and SYM's address (a code
 * address, not a table slot) in place of the slot.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifndef __wasm__
#include <unistd.h>
#endif

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What churn watches of memory: linear memory pages (64 KiB) in wasm; natively
 * the resident set size in KiB (the second field of /proc/self/statm, in
 * pages of sysconf(_SC_PAGESIZE)). */
#ifdef __wasm__
#define MEM_LABEL "pages"
static size_t mem_now(void) { return __builtin_wasm_memory_size(0); }
#else
#define MEM_LABEL "rss-kb"
static size_t mem_now(void) {
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE) / 1024u;
}
#endif

static void *open_or_die(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("error: dlopen %s: %s\n", path, dlerror());
        exit(1);
    }
    return h;
}

__attribute__((noinline)) static int baseline_cmp(const char *a, const char *b) {
    return strcmp(a, b);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "dlopen")) {
        for (int i = 2; i < argc; i++) {
            uint64_t t0 = now_ns();
            void *h = open_or_die(argv[i]);
            uint64_t t1 = now_ns();
            printf("dlopen %s %llu ns\n", argv[i], (unsigned long long)(t1 - t0));
            dlclose(h);
        }
    } else if (!strcmp(mode, "dlsym") && argc == 6) {
        void *h = open_or_die(argv[2]);
        long n = atol(argv[5]);
        const char *names[3] = {argv[3], argv[4], "bench_no_such_symbol_xyz"};
        const char *labels[3] = {"hit-first", "hit-deep", "miss"};
        volatile uintptr_t sink = 0;
        /* Warm-up, untimed: engines that tier up hot code (V8) time the
         * steady state, not the baseline compiler. */
        for (int k = 0; k < 3; k++)
            for (long i = 0; i < n / 4; i++) sink += (uintptr_t)dlsym(h, names[k]);
        for (int k = 0; k < 3; k++) {
            if ((dlsym(h, names[k]) != NULL) != (k < 2)) {
                printf("error: dlsym %s: unexpected result\n", names[k]);
                return 1;
            }
        }
        /* ROUNDS rounds of all four loops, interleaved; each figure is its
         * best round, so that a moment of interference (another process, the
         * engine's background threads) does not stand for the lookup. */
        enum { ROUNDS = 5 };
        char same[64];
        snprintf(same, sizeof same, "%s", argv[4]);
        double best[4] = {1e30, 1e30, 1e30, 1e30};
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < 4; k++) {
                uint64_t t0 = now_ns();
                if (k < 3)
                    for (long i = 0; i < n; i++) sink += (uintptr_t)dlsym(h, names[k]);
                else
                    for (long i = 0; i < n; i++) sink += (uintptr_t)baseline_cmp(same, argv[4]);
                uint64_t t1 = now_ns();
                double per = (double)(t1 - t0) / (double)n;
                if (per < best[k]) best[k] = per;
            }
        }
        for (int k = 0; k < 3; k++) printf("dlsym %s %.1f ns\n", labels[k], best[k]);
        printf("dlsym baseline-strcmp %.1f ns\n", best[3]);
        (void)sink;
    } else if (!strcmp(mode, "startup") && argc == 4) {
        if (strcmp(argv[3], "none") != 0) {
            void *h = open_or_die(argv[2]);
            int (*f)(void) = (int (*)(void))dlsym(h, argv[3]);
            if (!f) { printf("error: dlsym %s\n", argv[3]); return 1; }
            printf("startup %s() = %d\n", argv[3], f());
        } else {
            printf("startup baseline\n");
        }
    } else if (!strcmp(mode, "churn") && argc == 5) {
        long n = atol(argv[4]);
        size_t pages0 = mem_now(), pages100 = 0;
        uintptr_t slot_min = UINTPTR_MAX, slot_max = 0;
        uint64_t t0 = now_ns();
        for (long i = 0; i < n; i++) {
            void *h = open_or_die(argv[2]);
            uintptr_t f = (uintptr_t)dlsym(h, argv[3]);
            if (!f) { printf("error: dlsym %s\n", argv[3]); return 1; }
            if (f < slot_min) slot_min = f;
            if (f > slot_max) slot_max = f;
            if (dlclose(h)) { printf("error: dlclose: %s\n", dlerror()); return 1; }
            if (i == 99) pages100 = mem_now();
        }
        uint64_t t1 = now_ns();
        size_t pages_end = mem_now();
        printf("churn cycles %ld\n", n);
        printf("churn " MEM_LABEL "-start %zu\nchurn " MEM_LABEL "-after-100 %zu\nchurn " MEM_LABEL "-end %zu\n",
               pages0, pages100, pages_end);
        printf("churn slot-min %lu\nchurn slot-max %lu\n", (unsigned long)slot_min, (unsigned long)slot_max);
        printf("churn cycle %.1f us\n", (double)(t1 - t0) / 1000.0 / (double)n);
    } else {
        return 2;
    }
    return 0;
}
