/* Force-included (after tests/real/sqlite-wasi.h) when libsqlite3.so is
 * compiled against the PIC wasi-libc that libc.so is made from (bookworm's,
 * 2022), which lacks fchmod: WASI has no file modes, so there is nothing to
 * change and success is the honest answer. Only if sqlite-wasi.h does not
 * already provide it. */
#ifndef WASMDL_SQLITE_PIC_H
#define WASMDL_SQLITE_PIC_H
#ifndef fchmod
#include <sys/stat.h>
static int wasmdl_python_sqlite_fchmod(int fd, mode_t mode) { (void)fd; (void)mode; return 0; }
#define fchmod wasmdl_python_sqlite_fchmod
#endif
#endif
