#include <stdio.h>
int ready;
static const char *message = "constructor sees relocated data";
__attribute__((constructor)) static void setup(void) {
    printf("ctor: %s\n", message);
    ready = 42;
}
