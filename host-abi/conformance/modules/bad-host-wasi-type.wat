;; IMPORT_HOST for a WASI function with the wrong type: ERR_LINK.
(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32))))
