/* Linked into the Lua interpreter for wasm32-wasip1: wasi-libc declares
 * tmpfile() and system() but does not define them (WASI has no temporary
 * directory of its own and cannot start processes). Lua's io.tmpfile and
 * os.execute then fail the way the C standard allows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

FILE *tmpfile(void) {
    errno = ENOTSUP;
    return NULL;
}

int system(const char *command) {
    if (command == NULL)
        return 0; /* no command processor */
    errno = ENOSYS;
    return -1;
}
