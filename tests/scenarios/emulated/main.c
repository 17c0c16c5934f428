/* wasi-libc's emulation libraries (signal, mman, process-clocks, getpid)
 * linked into both kinds of program: into a PIE program they link against
 * libc.so, which must export the hidden libc symbols they use
 * (__lctrans_cur, for strsignal). A plugin uses them through the program. */
#define _WASI_EMULATED_SIGNAL
#define _WASI_EMULATED_MMAN
#define _WASI_EMULATED_PROCESS_CLOCKS
#define _WASI_EMULATED_GETPID
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile int got;
static void on(int s) { got = s; }

int main(void) {
    signal(SIGUSR1, on);
    raise(SIGUSR1);
    printf("signal: handler got %s, strsignal: %s\n", got == SIGUSR1 ? "SIGUSR1" : "nothing",
           strsignal(SIGUSR1));
    char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap: %s\n", p != MAP_FAILED && p[100] == 0 ? "zeroed" : "failed");
    printf("munmap: %d\n", munmap(p, 65536));
    printf("clock(): %s\n", clock() >= 0 ? "ok" : "failed");
    void *h = dlopen("/t/libemu.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*check)(int) = (int (*)(int))dlsym(h, "check_pid_and_signal");
    printf("plugin: %s\n", check(getpid()) ? "same pid, handler ran" : "mismatch");
    return 0;
}
