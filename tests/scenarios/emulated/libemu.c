#define _WASI_EMULATED_SIGNAL
#define _WASI_EMULATED_GETPID
#include <signal.h>
#include <unistd.h>

static volatile int hits;
static void on(int s) { (void)s; hits++; }

int check_pid_and_signal(int pid) {
    signal(SIGUSR2, on);
    raise(SIGUSR2);
    return pid == getpid() && hits == 1;
}
