;; The program every conformance guest runs with: imports the memory and the
;; table (minimum 1 page, 2 entries) and WASI, exports no memory.
;; Exports: 0 _start, 1 answer (i32 77).
(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 2 funcref))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (data (i32.const 1024) "program: _start ran\n")
  (func (export "_start")
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (i32.const 20))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 32))))
  (global (export "answer") i32 (i32.const 77)))
