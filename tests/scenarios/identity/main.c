/* A library is identified by its file, as glibc does (device and inode),
 * not by the path string: every spelling of its path and every symlink to
 * it gives the one handle and the one copy of its data, and a NEEDED entry
 * found through LD_LIBRARY_PATH is the file already opened by another path. */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    void *first = dlopen("/t/link.so", RTLD_NOW);
    if (!first) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*bump)(void) = (int (*)(void))dlsym(first, "id_bump");
    int (*loads)(void) = (int (*)(void))dlsym(first, "id_loads");
    printf("opened /t/link.so: counter %d\n", bump());

    printf("RTLD_NOLOAD of /t/libid.so: %s\n",
           dlopen("/t/libid.so", RTLD_NOW | RTLD_NOLOAD) == first ? "same handle" : "other");
    const char *spellings[] = {"/t/libid.so", "/t/./libid.so", "/t/sub/../libid.so",
                               "/t//libid.so", "/t/sub/uplink.so"};
    for (int i = 0; i < 5; i++) {
        void *h = dlopen(spellings[i], RTLD_NOW);
        int (*b)(void) = (int (*)(void))dlsym(h, "id_bump");
        printf("%-20s %s, counter %d\n", spellings[i], h == first ? "same handle" : "OTHER HANDLE", b());
    }
    void *user = dlopen("/t/libuser.so", RTLD_NOW);
    if (!user) { printf("dlopen: %s\n", dlerror()); return 1; }
    int (*user_bump)(void) = (int (*)(void))dlsym(user, "user_bump");
    printf("libuser's NEEDED libid.so: counter %d\n", user_bump());
    printf("constructor ran %d time(s)\n", loads());

    /* One reference per dlopen (7 here, the NOLOAD included) plus libuser's:
     * the library stays until the last. */
    dlclose(user);
    for (int i = 0; i < 6; i++) dlclose(first);
    printf("after 6 of 7 closes: %s\n",
           dlopen("/t/libid.so", RTLD_NOW | RTLD_NOLOAD) ? "still loaded" : "unloaded");
    dlclose(first); /* the NOLOAD just above */
    dlclose(first);
    printf("after the last close: %s\n",
           dlopen("/t/link.so", RTLD_NOW | RTLD_NOLOAD) ? "still loaded" : "unloaded");
    return 0;
}
