/* <dlfcn.h> for WebAssembly programs that load side modules with wasmdl's
 * libdl. The values are wasi-libc's (RTLD_LOCAL is 8 there, not 0 as in
 * glibc/musl), so code built against wasi-libc's header agrees with this one. */
#ifndef _DLFCN_H
#define _DLFCN_H

#ifdef __cplusplus
extern "C" {
#endif

#define RTLD_LAZY     1
#define RTLD_NOW      2
#define RTLD_NOLOAD   4
#define RTLD_LOCAL    8
#define RTLD_GLOBAL   256
#define RTLD_NODELETE 4096

#define RTLD_NEXT    ((void *)-1)
#define RTLD_DEFAULT ((void *)0)

typedef struct {
	const char *dli_fname; /* path of the module containing the address */
	void *dli_fbase;       /* its __memory_base */
	const char *dli_sname; /* nearest symbol at or below the address, or NULL */
	void *dli_saddr;       /* that symbol's address, or NULL */
} Dl_info;

int   dladdr(const void *, Dl_info *);

/* dlinfo requests (glibc's values); other requests fail with a dlerror. */
#define RTLD_DI_LINKMAP 2  /* arg: struct link_map ** */
#define RTLD_DI_ORIGIN  6  /* arg: char[PATH_MAX], the library's directory */

struct link_map {
	unsigned long l_addr;      /* __memory_base */
	char *l_name;              /* path */
	void *l_ld;                /* always NULL: no dynamic section */
	struct link_map *l_next, *l_prev;
};

int   dlinfo(void *__restrict, int, void *__restrict);
int   dlclose(void *);
char *dlerror(void);
void *dlopen(const char *, int);
void *dlsym(void *__restrict, const char *__restrict);

#ifdef __cplusplus
}
#endif

#endif
