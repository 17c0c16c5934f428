#include <stdio.h>
extern int program_counter;
int program_add(int, int);

static int (*saved)(int);

int apply(int (*f)(int), int x) { saved = f; return f(x); }
int use_program(int x) { return program_add(x, x) + program_counter; }
void *addr_of_add(void) { return (void *)program_add; }
int hand_back(void) { printf("plugin: calling the saved pointer\n"); return saved(50); }
