/* One copy of its data per process, however its file is reached. */
#include <stdio.h>

static int loads;
__attribute__((constructor)) static void init(void) { loads++; }

int id_loads(void) { return loads; }
int id_bump(void) {
    static int counter;
    return ++counter;
}
