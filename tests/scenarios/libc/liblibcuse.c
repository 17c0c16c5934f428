/* libc from a plugin: calls functions the program itself never calls
 * (opendir, readdir, qsort, strftime, gmtime, fwrite, fputs, remove), so a
 * static program must offer its whole libc. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int use_libc(const char *dir) {
    const char *m = getenv("WASMDL_FROM_MAIN");
    printf("plugin: getenv WASMDL_FROM_MAIN: %s\n", m ? m : "(null)");
    printf("plugin: getenv WASMDL_GREETING: %s\n", getenv("WASMDL_GREETING"));

    DIR *d = opendir(dir);
    if (!d) { perror("plugin: opendir"); return -1; }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (strstr(e->d_name, ".txt")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (int i = 0; i < n; i++) { printf("plugin: readdir: %s\n", names[i]); free(names[i]); }

    FILE *f = fopen("/t/written.txt", "w");
    if (!f) { perror("plugin: fopen for writing"); return -1; }
    const char msg[] = "written by the plugin\n";
    fwrite(msg, 1, sizeof msg - 1, f);
    fclose(f);
    fputs("plugin: wrote written.txt\n", stdout);

    time_t epoch = 86400 * 365;
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", gmtime(&epoch));
    printf("plugin: strftime of gmtime(365 days): %s\n", buf);
    printf("plugin: remove of a missing file: %d\n", remove("/t/nonexistent.txt"));
    return n;
}
