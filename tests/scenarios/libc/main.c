/* The libc a program relies on, from the program and from a plugin, in both
 * kinds of main: argv, the environment, files and directories through a
 * preopen, time, atexit order, the exit status, and stdio flushed at exit.
 * A PIE program gets all of this from libc.so, whose constructors (the
 * environment, the preopen table) must run before the program's own. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int ctor_saw_env;
__attribute__((constructor)) static void program_ctor(void) {
    /* libc.so's constructors ran first: the environment is already there. */
    ctor_saw_env = getenv("WASMDL_GREETING") != NULL;
}

static void last(void) { printf("atexit: registered first, runs last\n"); }
static void first(void) { printf("atexit: registered second, runs first\n"); }

int main(int argc, char **argv) {
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d] \"%s\"\n", i, argv[i]);
    printf("constructor saw the environment: %s\n", ctor_saw_env ? "yes" : "no");
    const char *g = getenv("WASMDL_GREETING");
    printf("getenv WASMDL_GREETING: %s\n", g ? g : "(null)");
    printf("getenv WASMDL_UNSET: %s\n", getenv("WASMDL_UNSET") ? "set" : "(null)");
    setenv("WASMDL_FROM_MAIN", "set by main", 1);

    /* Files through the preopen /t. */
    FILE *f = fopen("/t/data.txt", "r");
    if (!f) { perror("fopen /t/data.txt"); return 1; }
    char line[128];
    while (fgets(line, sizeof line, f)) printf("data.txt: %s", line);
    fclose(f);
    f = fopen("/t/nonexistent.txt", "r");
    printf("fopen of a missing file: %s\n", f ? "opened?" : "NULL");

    time_t now = time(NULL);
    printf("time() after 2020: %s\n", now > 1577836800 ? "yes" : "no");
    struct timespec ts;
    printf("clock_gettime(CLOCK_MONOTONIC): %s\n",
           clock_gettime(CLOCK_MONOTONIC, &ts) == 0 ? "ok" : "failed");
    /* Sleeping to an absolute deadline (CPython's time.sleep does): it
     * must end, after the deadline. */
    struct timespec deadline = ts, after;
    deadline.tv_nsec += 20 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000; }
    int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    printf("clock_nanosleep(TIMER_ABSTIME, +20 ms): %d, woke after the deadline: %s\n", r,
           after.tv_sec > deadline.tv_sec ||
           (after.tv_sec == deadline.tv_sec && after.tv_nsec >= deadline.tv_nsec) ? "yes" : "no");
    struct timespec rel = {0, 5 * 1000 * 1000};
    printf("nanosleep(5 ms): %d\n", nanosleep(&rel, NULL));

    void *h = dlopen("/t/liblibcuse.so", RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*use)(const char *) = (int (*)(const char *))dlsym(h, "use_libc");
    printf("plugin returned %d\n", use("/t"));

    /* What the plugin wrote, read back by the program. */
    f = fopen("/t/written.txt", "r");
    if (!f || !fgets(line, sizeof line, f)) { printf("written.txt: unreadable\n"); return 1; }
    fclose(f);
    printf("written.txt: %s", line);
    printf("remove written.txt: %d\n", remove("/t/written.txt"));

    atexit(last);
    atexit(first);
    /* Left in stdout's buffer: exit must flush it. */
    printf("exiting with status 3");
    exit(3);
}
