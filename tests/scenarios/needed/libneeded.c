/* Uses libc's data without NEEDing libc.so (plugins are linked -nostdlib):
 * a data relocation against stdout, errno and environ through GOT.mem. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

extern char **environ;
FILE *const *stdout_address = &stdout;
char ***environ_address = &environ;

int needed_check(void) {
    errno = 0;
    strtol("99999999999999999999", NULL, 10);
    int saved = errno; /* before printf, which may set it (isatty) */
    printf("libneeded: a static pointer to stdout is stdout: %s\n", *stdout_address == stdout ? "yes" : "no");
    printf("libneeded: a static pointer to environ is environ: %s\n", *environ_address == environ ? "yes" : "no");
    printf("libneeded: errno after an overflow: %s\n", saved == ERANGE ? "ERANGE" : "other");
    return 7;
}
