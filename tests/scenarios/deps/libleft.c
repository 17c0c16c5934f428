#include <stdio.h>
int base_add(int);
const char *who(void) { return "left"; }
int left_value(void) { return base_add(4); }
__attribute__((constructor)) static void init(void) { printf("init left\n"); }
__attribute__((destructor)) static void fini(void) { printf("fini left\n"); }
