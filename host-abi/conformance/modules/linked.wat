;; One import per descriptor kind (import indices):
;; 0 MEMORY  1 TABLE  2 STACK_POINTER  3 GLOBAL (i32)  4 GLOBAL (mut i64)
;; 5 EXPORT (answer's `seven`)  6 HOST (WASI fd_write)  7 HOST (table_grow)
;; Exports: 0 sum  1 peek  2 sp  3 tsize  4 m_low  5 hello  6 g  7 m  8 grow
(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (import "env" "__stack_pointer" (global $sp (mut i32)))
  (import "env" "g" (global $g i32))
  (import "env" "m" (global $m (mut i64)))
  (import "env" "seven" (func $seven (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "table_grow" (func $table_grow (param i32 i32) (result i32)))
  (func (export "sum") (result i32) (i32.add (global.get $g) (call $seven)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "sp") (result i32) (global.get $sp))
  (func (export "tsize") (result i32) (table.size 0))
  (func (export "m_low") (result i32) (i32.wrap_i64 (global.get $m)))
  ;; Writes $len bytes at $ptr to stdout, with the iovec just below the
  ;; stack pointer: WASI reached through IMPORT_HOST must use the process
  ;; memory, although this module exports none.
  (func (export "hello") (param $ptr i32) (param $len i32) (result i32)
    (local $iov i32)
    (local.set $iov (i32.sub (global.get $sp) (i32.const 16)))
    (i32.store (local.get $iov) (local.get $ptr))
    (i32.store offset=4 (local.get $iov) (local.get $len))
    (call $fd_write (i32.const 1) (local.get $iov) (i32.const 1) (i32.add (local.get $iov) (i32.const 8))))
  (export "g" (global $g))
  (export "m" (global $m))
  (export "grow" (func $table_grow)))
