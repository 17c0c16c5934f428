#include <stdio.h>
int left_value(void);
int right_value(void);
int top_value(void) { return left_value() * 1000 + right_value(); }
__attribute__((constructor)) static void init(void) { printf("init top\n"); }
__attribute__((destructor)) static void fini(void) { printf("fini top\n"); }
