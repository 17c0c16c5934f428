/* Loading and unloading reuses memory and table slots:
 * - a library with 1024-byte-aligned data and bss, loaded and unloaded ten
 *   times, each time dirtying its memory before the next load;
 * - 10,000 open/close cycles of a small library, with the growth of linear
 *   memory after a warm-up bounded by BOUND_PAGES, and its functions always
 *   getting the same table slot back. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BOUND_PAGES 1  /* 64 KiB */

int main(void) {
    int aligned_ok = 1, zero_ok = 1, data_ok = 1;
    size_t mem_after_two = 0;
    for (int i = 0; i < 10; i++) {
        void *h = dlopen("/t/libaligned.so", RTLD_NOW);
        if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
        unsigned char *bss = (unsigned char *)dlsym(h, "bss_block");
        int *data = (int *)dlsym(h, "data_block");
        if ((uintptr_t)bss % 1024 || (uintptr_t)data % 1024) aligned_ok = 0;
        for (int k = 0; k < 4096; k++) if (bss[k]) zero_ok = 0;
        if (data[0] != 1 || data[1] != 2 || data[2] != 3) data_ok = 0;
        for (int k = 3; k < 256; k++) if (data[k]) data_ok = 0;
        /* The first load finds the heap in another state; from the second on,
         * each load fits in memory the previous ones freed. (Not always at
         * the same address: the loader's own tables, such as the symbol
         * index, share the heap and now and then resize.) */
        if (i == 1) mem_after_two = __builtin_wasm_memory_size(0);
        memset(bss, 0xAA, 4096);       /* dirty what the next load gets back */
        memset(data, 0x55, 256 * sizeof(int));
        dlclose(h);
    }
    printf("aligned to 1024: %s, bss zero each time: %s, data initialised each time: %s\n",
           aligned_ok ? "yes" : "no", zero_ok ? "yes" : "no", data_ok ? "yes" : "no");
    printf("memory grown over loads 2-10: %zu pages\n",
           __builtin_wasm_memory_size(0) - mem_after_two);

    size_t warm = 0;
    void *slot0 = 0;
    int same_slot = 1, ctor_total = 0;
    for (int i = 0; i < 10000; i++) {
        void *h = dlopen("/t/libsmall.so", RTLD_NOW);
        if (!h) { printf("cycle %d: %s\n", i, dlerror()); return 1; }
        int (*f)(void) = (int (*)(void))dlsym(h, "small");
        ctor_total += f();
        if (i == 0) slot0 = (void *)f; else if ((void *)f != slot0) same_slot = 0;
        if (dlclose(h)) { printf("dlclose: %s\n", dlerror()); return 1; }
        if (i == 99) warm = __builtin_wasm_memory_size(0);
    }
    size_t grown = __builtin_wasm_memory_size(0) - warm;
    printf("10000 cycles: constructors ran %d times, same function slot: %s\n", ctor_total, same_slot ? "yes" : "no");
    printf("memory growth after warm-up within %d page(s): %s\n", BOUND_PAGES, grown <= BOUND_PAGES ? "yes" : "no");
    return 0;
}
