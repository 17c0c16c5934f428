  ;; module_compile, module_bytes, module_free.
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (local $m i32) (local $m2 i32) (local $m3 i32) (local $i i32) (local $end i32)
    (local.set $end (call $memsize))
    ;; module_compile: valid input.
    (call $check {{"module_compile answer"}} (call $module_compile {{bytes answer}} (call $out)) (global.get $OK))
    (local.set $m (i32.load (call $out)))
    (call $check_true {{"module_compile handle is not 0"}} (local.get $m))
    ;; module_compile: not a valid module.
    (call $check {{"module_compile garbage"}}
      (call $module_compile {{"this is not wasm at all"}} (i32.const 23) (call $out)) (global.get $ERR_COMPILE))
    (call $check {{"module_compile WAT text"}}
      (call $module_compile {{"(module)"}} (i32.const 8) (call $out)) (global.get $ERR_COMPILE))
    (call $check {{"module_compile truncated"}}
      (call $module_compile {{ptr answer}} (i32.sub {{len answer}} (i32.const 3)) (call $out)) (global.get $ERR_COMPILE))
    (call $check {{"module_compile empty"}}
      (call $module_compile {{ptr answer}} (i32.const 0) (call $out)) (global.get $ERR_COMPILE))
    (call $check {{"module_compile invalid function body"}}
      (call $module_compile {{bytes invalid}} (call $out)) (global.get $ERR_COMPILE))
    ;; module_compile: bytes outside memory.
    (call $check {{"module_compile bytes at the end"}}
      (call $module_compile (local.get $end) (i32.const 8) (call $out)) (global.get $ERR_FAULT))
    (call $check {{"module_compile bytes crossing the end"}}
      (call $module_compile (i32.sub (local.get $end) (i32.const 4)) (i32.const 8) (call $out)) (global.get $ERR_FAULT))
    (call $check {{"module_compile ptr+len overflows"}}
      (call $module_compile (i32.const 8) (i32.const 0xfffffff8) (call $out)) (global.get $ERR_FAULT))
    (call $check {{"module_compile ptr 0xffffffff"}}
      (call $module_compile (i32.const 0xffffffff) (i32.const 2) (call $out)) (global.get $ERR_FAULT))
    (call $check {{"module_compile out crossing the end"}}
      (call $module_compile {{bytes answer}} (i32.sub (local.get $end) (i32.const 2))) (global.get $ERR_FAULT))
    (call $check {{"module_compile out 0xfffffffe"}}
      (call $module_compile {{bytes answer}} (i32.const 0xfffffffe)) (global.get $ERR_FAULT))

    ;; module_bytes: the length, then the bytes if they fit.
    (i32.store (call $out) (i32.const 0x12345678))
    (call $check {{"module_bytes cap 0"}}
      (call $module_bytes (local.get $m) (call $buf) (i32.const 0) (call $out)) (global.get $OK))
    (call $check {{"module_bytes cap 0 length"}} (i32.load (call $out)) {{len answer}})
    (call $fill (call $buf) (i32.const 0xaa) (i32.const 1024))
    (call $check {{"module_bytes cap len-1"}}
      (call $module_bytes (local.get $m) (call $buf) (i32.sub {{len answer}} (i32.const 1)) (call $out)) (global.get $OK))
    (call $check {{"module_bytes cap len-1 copies nothing"}} (i32.load8_u (call $buf)) (i32.const 0xaa))
    (call $check {{"module_bytes cap len"}}
      (call $module_bytes (local.get $m) (call $buf) {{len answer}} (call $out)) (global.get $OK))
    (call $check_true {{"module_bytes copies the original binary"}} (call $memeq (call $buf) {{bytes answer}}))
    (call $check {{"module_bytes copies no more"}}
      (i32.load8_u (i32.add (call $buf) {{len answer}})) (i32.const 0xaa))
    (call $check {{"module_bytes cap < len ignores a bad buffer"}}
      (call $module_bytes (local.get $m) (local.get $end) (i32.const 1) (call $out)) (global.get $OK))
    ;; module_bytes: hostile.
    (call $check {{"module_bytes handle 0"}}
      (call $module_bytes (i32.const 0) (call $buf) (i32.const 0) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"module_bytes handle 0xffffffff"}}
      (call $module_bytes (i32.const 0xffffffff) (call $buf) (i32.const 0) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"module_bytes out at the end"}}
      (call $module_bytes (local.get $m) (call $buf) (i32.const 0) (local.get $end)) (global.get $ERR_FAULT))
    (call $check {{"module_bytes out crossing the end"}}
      (call $module_bytes (local.get $m) (call $buf) (i32.const 0) (i32.sub (local.get $end) (i32.const 3))) (global.get $ERR_FAULT))
    (i32.store (call $out) (i32.const 0x12345678))
    (call $check {{"module_bytes buffer crossing the end"}}
      (call $module_bytes (local.get $m) (i32.sub (local.get $end) (i32.const 4)) (i32.const 0xffffffff) (call $out))
      (global.get $ERR_FAULT))
    (call $check {{"module_bytes buffer fault writes no length"}} (i32.load (call $out)) (i32.const 0x12345678))
    (call $check {{"module_bytes buffer+cap overflows"}}
      (call $module_bytes (local.get $m) (i32.const 0xffffffff) (i32.const 0xffffffff) (call $out)) (global.get $ERR_FAULT))

    ;; module_free, and what survives it.
    (call $check {{"module_compile again"}} (call $module_compile {{bytes answer}} (call $out)) (global.get $OK))
    (local.set $m3 (i32.load (call $out)))
    (call $check {{"instance_new before module_free"}}
      (call $instance_new (local.get $m3) (call $descs) (i32.const 0) (call $out)) (global.get $OK))
    (local.set $i (i32.load (call $out)))
    (call $check {{"module_free"}} (call $module_free (local.get $m)) (global.get $OK))
    (call $check {{"module_free twice"}} (call $module_free (local.get $m)) (global.get $ERR_BADHANDLE))
    (call $check {{"module_bytes after module_free"}}
      (call $module_bytes (local.get $m) (call $buf) (i32.const 0) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"instance_new after module_free"}}
      (call $instance_new (local.get $m) (call $descs) (i32.const 0) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"module_free handle 0"}} (call $module_free (i32.const 0)) (global.get $ERR_BADHANDLE))
    (call $check {{"module_free handle 0xffffffff"}} (call $module_free (i32.const 0xffffffff)) (global.get $ERR_BADHANDLE))
    (call $check {{"module_free the module of an instance"}} (call $module_free (local.get $m3)) (global.get $OK))
    (call $check {{"instance outlives its module"}}
      (call $export_global_get (local.get $i) (i32.const 1) (call $out)) (global.get $OK))
    (call $check {{"instance outlives its module value"}} (i32.load (call $out)) (i32.const 42))
    ;; A freed handle is never issued again.
    (call $check {{"module_compile after module_free"}} (call $module_compile {{bytes answer}} (call $out)) (global.get $OK))
    (local.set $m2 (i32.load (call $out)))
    (call $check_true {{"module handles are not reissued"}}
      (i32.and (i32.ne (local.get $m2) (local.get $m)) (i32.ne (local.get $m2) (local.get $m3))))
    (i32.const 0))
