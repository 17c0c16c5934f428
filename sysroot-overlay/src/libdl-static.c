/* libdl.a: what a statically linked program links with -ldl. Each dl*
 * function forwards to the export of the same name of libdl.so, the loader
 * the runtime's shim instantiates before the program (host-abi/SPEC.md,
 * "Starting a process": imports from module "libdl.so" are bound to libdl's
 * exports). Real functions rather than bare import declarations, so that any
 * <dlfcn.h> works and these definitions win over libc's failing stubs. */
#include <dlfcn.h>

#define LIBDL_IMPORT(name) __attribute__((import_module("libdl.so"), import_name(#name)))

LIBDL_IMPORT(dlopen) void *__wasmdl_dlopen(const char *, int);
LIBDL_IMPORT(dlsym) void *__wasmdl_dlsym(void *, const char *);
LIBDL_IMPORT(dlclose) int __wasmdl_dlclose(void *);
LIBDL_IMPORT(dlerror) char *__wasmdl_dlerror(void);
LIBDL_IMPORT(dladdr) int __wasmdl_dladdr(const void *, Dl_info *);
LIBDL_IMPORT(dlinfo) int __wasmdl_dlinfo(void *, int, void *);

void *dlopen(const char *file, int mode) { return __wasmdl_dlopen(file, mode); }
void *dlsym(void *restrict handle, const char *restrict name) { return __wasmdl_dlsym(handle, name); }
int dlclose(void *handle) { return __wasmdl_dlclose(handle); }
char *dlerror(void) { return __wasmdl_dlerror(); }
int dladdr(const void *addr, Dl_info *info) { return __wasmdl_dladdr(addr, info); }
int dlinfo(void *restrict handle, int request, void *restrict arg) { return __wasmdl_dlinfo(handle, request, arg); }
