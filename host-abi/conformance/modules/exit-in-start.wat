;; A start function that calls proc_exit(42), imported through IMPORT_HOST:
;; the process ends with status 42 (it is not an instantiation failure).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $start (call $exit (i32.const 42)))
  (start $start))
