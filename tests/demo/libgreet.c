/* A plugin using the program's libc (printf, strlen) and a callback. */
#include <stdio.h>
#include <string.h>

int plugin_calls;

const char *plugin_name(void) { return "greet"; }

int plugin_run(const char *who, int (*cb)(const char *, int)) {
    plugin_calls++;
    printf("greet: hello, %s! (%zu letters)\n", who, strlen(who));
    return cb("greet", (int)strlen(who));
}
