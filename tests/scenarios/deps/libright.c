#include <stdio.h>
int base_add(int);
const char *who(void) { return "right"; }
int right_value(void) { return base_add(5); }
__attribute__((constructor)) static void init(void) { printf("init right\n"); }
__attribute__((destructor)) static void fini(void) { printf("fini right\n"); }
