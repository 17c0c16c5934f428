  ;; The prelude of every conformance guest (run.sh wraps each tests/NAME.wat
  ;; in `(module` + this + the test + the data): the imports libdl.so may
  ;; have, and helpers to report checks. The placeholders in double braces
  ;; (strings, module bytes) are explained in preprocess.awk.
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (import "env" "__stack_pointer" (global $__stack_pointer (mut i32)))
  (import "env" "__memory_base" (global $__memory_base i32))
  (import "env" "__table_base" (global $__table_base i32))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasmdl_host_v0" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "wasmdl_host_v0" "module_compile" (func $module_compile (param i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "module_bytes" (func $module_bytes (param i32 i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "module_free" (func $module_free (param i32) (result i32)))
  (import "wasmdl_host_v0" "instance_new" (func $instance_new (param i32 i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "instance_free" (func $instance_free (param i32) (result i32)))
  (import "wasmdl_host_v0" "export_global_get" (func $export_global_get (param i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "export_to_table" (func $export_to_table (param i32 i32 i32) (result i32)))
  (import "wasmdl_host_v0" "table_grow" (func $table_grow (param i32 i32) (result i32)))
  (import "wasmdl_host_v0" "table_clear" (func $table_clear (param i32 i32) (result i32)))
  (import "wasmdl_host_v0" "global_new" (func $global_new (param i32 i32 i64 i32) (result i32)))
  (import "wasmdl_host_v0" "global_set" (func $global_set (param i32 i64) (result i32)))
  (import "wasmdl_host_v0" "global_free" (func $global_free (param i32) (result i32)))

  ;; Function types for call_indirect.
  (type $ret_i32 (func (result i32)))
  (type $i32_ret_i32 (func (param i32) (result i32)))
  (type $i32_i32_ret_i32 (func (param i32 i32) (result i32)))

  ;; Error codes and descriptor kinds of the spec.
  (global $OK i32 (i32.const 0))
  (global $ERR_BADHANDLE i32 (i32.const 1))
  (global $ERR_FAULT i32 (i32.const 2))
  (global $ERR_INVAL i32 (i32.const 3))
  (global $ERR_COMPILE i32 (i32.const 4))
  (global $ERR_LINK i32 (i32.const 5))
  (global $ERR_INSTANTIATE i32 (i32.const 6))
  (global $ERR_NOMEM i32 (i32.const 7))
  (global $ERR_RANGE i32 (i32.const 8))
  (global $ERR_TYPE i32 (i32.const 9))
  (global $IMPORT_MEMORY i32 (i32.const 1))
  (global $IMPORT_TABLE i32 (i32.const 2))
  (global $IMPORT_STACK_POINTER i32 (i32.const 3))
  (global $IMPORT_GLOBAL i32 (i32.const 4))
  (global $IMPORT_EXPORT i32 (i32.const 5))
  (global $IMPORT_HOST i32 (i32.const 6))

  ;; Scratch memory: 64 KiB of libdl's data region after the strings.
  ;;   out (+0), out2 (+0x10), descriptors (+0x100), buffer (+0x1000),
  ;;   the output line (+0xf000) and its iovec (+0xff00).
  (func $scratch (result i32) (i32.add (global.get $__memory_base) (global.get $scratch_offset)))
  (func $out (result i32) (call $scratch))
  (func $out2 (result i32) (i32.add (call $scratch) (i32.const 0x10)))
  (func $descs (result i32) (i32.add (call $scratch) (i32.const 0x100)))
  (func $buf (result i32) (i32.add (call $scratch) (i32.const 0x1000)))
  (func $line (result i32) (i32.add (call $scratch) (i32.const 0xf000)))
  (func $iov (result i32) (i32.add (call $scratch) (i32.const 0xff00)))
  ;; The size of memory in bytes: the first address outside it.
  (func $memsize (result i32) (i32.shl (memory.size) (i32.const 16)))

  ;; Writes descriptor number $i: kind, a, b.
  (func $desc (param $i i32) (param $kind i32) (param $a i32) (param $b i32)
    (local $p i32)
    (local.set $p (i32.add (call $descs) (i32.mul (local.get $i) (i32.const 12))))
    (i32.store (local.get $p) (local.get $kind))
    (i32.store offset=4 (local.get $p) (local.get $a))
    (i32.store offset=8 (local.get $p) (local.get $b)))

  (func $fill (param $p i32) (param $byte i32) (param $n i32)
    (memory.fill (local.get $p) (local.get $byte) (local.get $n)))

  ;; 1 if the $n bytes at $a and $b are equal.
  (func $memeq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $differ
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  (func $strlen (param $s i32) (result i32)
    (local $n i32)
    (block $end
      (loop $next
        (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; Output: a line is built at $line and written to stdout with fd_write.
  (global $line_len (mut i32) (i32.const 0))
  (func $putc (param $c i32)
    (i32.store8 (i32.add (call $line) (global.get $line_len)) (local.get $c))
    (global.set $line_len (i32.add (global.get $line_len) (i32.const 1))))
  (func $puts (param $s i32)
    (local $c i32)
    (block $end
      (loop $next
        (local.set $c (i32.load8_u (local.get $s)))
        (br_if $end (i32.eqz (local.get $c)))
        (call $putc (local.get $c))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $next))))
  ;; Unsigned decimal.
  (func $putu (param $n i32)
    (if (i32.ge_u (local.get $n) (i32.const 10))
      (then (call $putu (i32.div_u (local.get $n) (i32.const 10)))))
    (call $putc (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10)))))
  (func $newline
    (call $putc (i32.const 10))
    (i32.store (call $iov) (call $line))
    (i32.store offset=4 (call $iov) (global.get $line_len))
    (drop (call $fd_write (i32.const 1) (call $iov) (i32.const 1) (i32.add (call $iov) (i32.const 8))))
    (global.set $line_len (i32.const 0)))
  ;; Prints a line.
  (func $say (param $s i32)
    (call $puts (local.get $s))
    (call $newline))

  ;; The check: `ok NAME`, or `FAIL NAME: got X want Y`.
  (func $check (param $name i32) (param $got i32) (param $want i32)
    (if (i32.eq (local.get $got) (local.get $want))
      (then
        (call $puts {{"ok "}})
        (call $puts (local.get $name)))
      (else
        (call $puts {{"FAIL "}})
        (call $puts (local.get $name))
        (call $puts {{": got "}})
        (call $putu (local.get $got))
        (call $puts {{" want "}})
        (call $putu (local.get $want))))
    (call $newline))
  ;; A check of a condition.
  (func $check_true (param $name i32) (param $cond i32)
    (call $check (local.get $name) (i32.ne (local.get $cond) (i32.const 0)) (i32.const 1)))
