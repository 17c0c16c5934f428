#include <stdio.h>
__attribute__((destructor)) static void fini(void) { printf("stay: destructor at exit\n"); }
