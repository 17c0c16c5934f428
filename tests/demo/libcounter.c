/* A plugin with its own state, initialised data and a constructor. */
#include <stdio.h>

int plugin_calls;
static int total = 100;
static const char *labels[] = {"first", "second", "third"};

__attribute__((constructor)) static void counter_init(void) {
    printf("counter: constructor ran (total starts at %d)\n", total);
}

const char *plugin_name(void) { return "counter"; }

int plugin_run(const char *who, int (*cb)(const char *, int)) {
    total += 11;
    printf("counter: %s call for %s, total %d\n", labels[plugin_calls % 3], who, total);
    plugin_calls++;
    return cb("counter", total);
}
