/* Exit handlers belong to the library that registered them: destructors and
 * atexit handlers run at its last dlclose, newest first; those of libraries
 * still loaded run when the program exits, after the program's own. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static void program_handler(void) { printf("program: atexit handler\n"); }

int main(void) {
    void *gone = dlopen("/t/libgone.so", RTLD_NOW);
    void *stay = dlopen("/t/libstay.so", RTLD_NOW);
    if (!gone || !stay) { printf("dlopen: %s\n", dlerror()); return 1; }
    void (*arm)(void) = (void (*)(void))dlsym(gone, "arm");
    arm();
    printf("closing libgone\n");
    dlclose(gone);
    printf("closed libgone\n");
    atexit(program_handler);
    printf("exiting\n");
    return 0;
}
