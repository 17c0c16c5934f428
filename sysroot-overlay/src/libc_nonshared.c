/* libc_nonshared.a: the part of libc a PIE program links statically, as in
 * glibc. wasm-ld wraps a command's _start with calls to __wasm_call_dtors
 * and requires that function to be defined in the program itself, not in a
 * shared library; so libc.so is linked without wasi-libc's exit.o, and the
 * program gets these two definitions, which call libc.so's real exit
 * machinery. (exit.o's own copies would bind to its weak dummies of
 * __funcs_on_exit and __stdio_exit, and stdout would never be flushed.) */
void __funcs_on_exit(void);
void __stdio_exit(void);
_Noreturn void _Exit(int);

void __wasm_call_dtors(void) {
    __funcs_on_exit();
    __stdio_exit();
}

_Noreturn void exit(int code) {
    __wasm_call_dtors();
    _Exit(code);
}
