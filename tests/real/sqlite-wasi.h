/* Force-included (-include) when compiling SQLite 3.40's amalgamation and
 * shell for wasm32-wasip1, so that the unmodified Debian sources build:
 * wasi-libc has no fchown, no geteuid and no POSIX advisory locks, which
 * os_unix.c of 3.40 uses unconditionally (3.41+ has its own __wasi__ block),
 * and no system(), which the shell calls. The PIE sysroot's older wasi-libc
 * (bookworm's, of 2022) does not declare fchmod and chmod either, which
 * os_unix.c and the shell use unconditionally; WASI has no file modes, so
 * they are no-ops in both kinds of program.
 * A WASI program is a single process: every lock request succeeds. */
#ifndef WASMDL_SQLITE_WASI_H
#define WASMDL_SQLITE_WASI_H
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>

#ifndef F_RDLCK
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#endif

static int wasmdl_sqlite_fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    if (cmd == F_GETLK) {
        struct flock *l = va_arg(ap, struct flock *);
        va_end(ap);
        l->l_type = F_UNLCK; /* nobody else holds a lock */
        return 0;
    }
    if (cmd == F_SETLK || cmd == F_SETLKW) {
        va_end(ap);
        return 0;
    }
    if (cmd == F_SETFL || cmd == F_SETFD) {
        int arg = va_arg(ap, int);
        va_end(ap);
        return fcntl(fd, cmd, arg);
    }
    va_end(ap);
    return fcntl(fd, cmd);
}
#define fcntl wasmdl_sqlite_fcntl

static int wasmdl_sqlite_fchown(int fd, uid_t uid, gid_t gid) {
    (void)fd; (void)uid; (void)gid;
    return 0;
}
#define fchown wasmdl_sqlite_fchown
static int wasmdl_sqlite_fchmod(int fd, mode_t mode) {
    (void)fd; (void)mode;
    return 0;
}
#define fchmod wasmdl_sqlite_fchmod
static int wasmdl_sqlite_chmod(const char *path, mode_t mode) {
    (void)path; (void)mode;
    return 0;
}
#define chmod wasmdl_sqlite_chmod
static uid_t wasmdl_sqlite_geteuid(void) { return 0; }
#define geteuid wasmdl_sqlite_geteuid

/* The shell's .system and .shell: WASI cannot start processes. */
static int wasmdl_sqlite_system(const char *cmd) { (void)cmd; return -1; }
#define system wasmdl_sqlite_system
#endif
