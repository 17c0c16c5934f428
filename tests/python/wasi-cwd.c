/* Linked into python.wasm by tests/python/build.sh: start in the directory
 * named by PWD.
 *
 * WASI has no current directory; wasi-libc emulates one that starts at "/".
 * bin/python3 preopens the host's / as the guest's / and passes the host's
 * current directory as PWD, so changing to it before main makes every
 * relative path mean what it means on the host. It has to happen before
 * CPython's configuration, which makes the script's path absolute (and
 * computes sys.path[0]) before site or any Python code runs. The
 * constructor has the default priority: after libc's own (environ,
 * preopens). */
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void wasmdl_python_start_in_pwd(void)
{
    const char *pwd = getenv("PWD");
    if (pwd != NULL && pwd[0] == '/')
        (void)chdir(pwd);
}
