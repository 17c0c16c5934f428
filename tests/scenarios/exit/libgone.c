#include <stdio.h>
#include <stdlib.h>
static void first(void) { printf("gone: atexit handler 1\n"); }
static void second(void) { printf("gone: atexit handler 2\n"); }
void arm(void) { atexit(first); atexit(second); }
__attribute__((destructor)) static void fini(void) { printf("gone: destructor\n"); }
