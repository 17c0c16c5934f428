#include <stdio.h>
int base_counter = 100;
const char *who(void) { return "base"; }
int base_add(int x) { return base_counter += x; }
__attribute__((constructor)) static void init(void) { printf("init base\n"); }
__attribute__((destructor)) static void fini(void) { printf("fini base\n"); }
