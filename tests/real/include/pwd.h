/* wasi-libc has no <pwd.h>; SQLite's shell includes it to find the home
 * directory. A WASI program has no user database: getpwuid finds nobody. */
#ifndef WASMDL_PWD_H
#define WASMDL_PWD_H
#include <sys/types.h>
struct passwd {
    char *pw_name;
    char *pw_passwd;
    uid_t pw_uid;
    gid_t pw_gid;
    char *pw_gecos;
    char *pw_dir;
    char *pw_shell;
};
static inline struct passwd *getpwuid(uid_t uid) { (void)uid; return 0; }
static inline uid_t getuid(void) { return 0; }
#endif
