/* Calls both ways: the plugin calls a function pointer the program passes,
 * calls the program's exported function by name, reads the program's data,
 * and takes the address of a program function (same pointer as the program's). */
#include <dlfcn.h>
#include <stdio.h>

int program_counter = 40;

int program_add(int a, int b) { return a + b + program_counter; }

static int twice(int x) { return 2 * x; }

int main(void) {
    void *h = dlopen("/t/libcb.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*apply)(int (*)(int), int) = (int (*)(int (*)(int), int))dlsym(h, "apply");
    int (*use_program)(int) = (int (*)(int))dlsym(h, "use_program");
    void *(*addr_of_add)(void) = (void *(*)(void))dlsym(h, "addr_of_add");
    int (*hand_back)(void) = (int (*)(void))dlsym(h, "hand_back");
    if (!apply || !use_program || !addr_of_add || !hand_back) { printf("dlsym: %s\n", dlerror()); return 1; }
    printf("apply(twice, 21) = %d\n", apply(twice, 21));
    printf("use_program(2) = %d\n", use_program(2));
    program_counter = 0;
    printf("after program_counter = 0: %d\n", use_program(2));
    printf("&program_add equal in both: %s\n", addr_of_add() == (void *)program_add ? "yes" : "no");
    printf("hand_back() = %d\n", hand_back());
    return 0;
}
