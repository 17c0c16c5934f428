  ;; export_global_get and export_to_table. modules/answer.wat exports:
  ;; 0 seven (func)  1 answer (i32 42)  2 minus1 (i32 -1)  3 big (i64)
  ;; 4 float (f32)  5 counter (mut i32)  6 bump (func)  7 mem  8 seven64
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (local $ia i32) (local $slot i32) (local $end i32)
    (local.set $end (call $memsize))
    (drop (call $module_compile {{bytes answer}} (call $out)))
    (drop (call $instance_new (i32.load (call $out)) (call $descs) (i32.const 0) (call $out)))
    (local.set $ia (i32.load (call $out)))
    (drop (call $table_grow (i32.const 1) (call $out)))
    (local.set $slot (i32.load (call $out)))

    ;; export_global_get: 8 bytes, i32 zero-extended.
    (call $fill (call $out) (i32.const 0xff) (i32.const 8))
    (call $check {{"export_global_get i32"}} (call $export_global_get (local.get $ia) (i32.const 1) (call $out)) (global.get $OK))
    (call $check {{"export_global_get i32 low"}} (i32.load (call $out)) (i32.const 42))
    (call $check {{"export_global_get i32 high"}} (i32.load offset=4 (call $out)) (i32.const 0))
    (call $fill (call $out) (i32.const 0xff) (i32.const 8))
    (call $check {{"export_global_get i32 -1"}} (call $export_global_get (local.get $ia) (i32.const 2) (call $out)) (global.get $OK))
    (call $check {{"export_global_get i32 -1 low"}} (i32.load (call $out)) (i32.const 0xffffffff))
    (call $check {{"export_global_get i32 -1 zero-extended"}} (i32.load offset=4 (call $out)) (i32.const 0))
    (call $check {{"export_global_get i64"}} (call $export_global_get (local.get $ia) (i32.const 3) (call $out)) (global.get $OK))
    (call $check {{"export_global_get i64 low"}} (i32.load (call $out)) (i32.const 0x55667788))
    (call $check {{"export_global_get i64 high"}} (i32.load offset=4 (call $out)) (i32.const 0x11223344))
    ;; A mutable global: the current value.
    (call $check {{"export_to_table bump"}} (call $export_to_table (local.get $ia) (i32.const 6) (local.get $slot)) (global.get $OK))
    (call $check {{"call bump"}} (call_indirect (type $ret_i32) (local.get $slot)) (i32.const 1))
    (call $check {{"call bump again"}} (call_indirect (type $ret_i32) (local.get $slot)) (i32.const 2))
    (call $check {{"export_global_get mutable"}} (call $export_global_get (local.get $ia) (i32.const 5) (call $out)) (global.get $OK))
    (call $check {{"export_global_get mutable value"}} (i32.load (call $out)) (i32.const 2))
    ;; export_global_get: hostile.
    (i32.store (call $out) (i32.const 0x12345678))
    (call $check {{"export_global_get f32"}} (call $export_global_get (local.get $ia) (i32.const 4) (call $out)) (global.get $ERR_TYPE))
    (call $check {{"export_global_get function"}} (call $export_global_get (local.get $ia) (i32.const 0) (call $out)) (global.get $ERR_TYPE))
    (call $check {{"export_global_get memory"}} (call $export_global_get (local.get $ia) (i32.const 7) (call $out)) (global.get $ERR_TYPE))
    (call $check {{"export_global_get failures write nothing"}} (i32.load (call $out)) (i32.const 0x12345678))
    (call $check {{"export_global_get index 9"}} (call $export_global_get (local.get $ia) (i32.const 9) (call $out)) (global.get $ERR_RANGE))
    (call $check {{"export_global_get index 0xffffffff"}}
      (call $export_global_get (local.get $ia) (i32.const 0xffffffff) (call $out)) (global.get $ERR_RANGE))
    (call $check {{"export_global_get instance 0"}} (call $export_global_get (i32.const 0) (i32.const 1) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"export_global_get instance 0xffffffff"}}
      (call $export_global_get (i32.const 0xffffffff) (i32.const 1) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"export_global_get out crossing the end"}}
      (call $export_global_get (local.get $ia) (i32.const 1) (i32.sub (local.get $end) (i32.const 4))) (global.get $ERR_FAULT))
    (call $check {{"export_global_get out at 0xfffffffc"}}
      (call $export_global_get (local.get $ia) (i32.const 1) (i32.const 0xfffffffc)) (global.get $ERR_FAULT))
    (call $check {{"export_global_get range before fault"}}
      (call $export_global_get (local.get $ia) (i32.const 9) (local.get $end)) (global.get $ERR_RANGE))
    (call $check {{"export_global_get type before fault"}}
      (call $export_global_get (local.get $ia) (i32.const 4) (local.get $end)) (global.get $ERR_TYPE))

    ;; export_to_table.
    (call $check {{"export_to_table seven"}} (call $export_to_table (local.get $ia) (i32.const 0) (local.get $slot)) (global.get $OK))
    (call $check {{"call seven"}} (call_indirect (type $ret_i32) (local.get $slot)) (i32.const 7))
    (call $check {{"export_to_table global"}} (call $export_to_table (local.get $ia) (i32.const 1) (local.get $slot)) (global.get $ERR_TYPE))
    (call $check {{"export_to_table memory"}} (call $export_to_table (local.get $ia) (i32.const 7) (local.get $slot)) (global.get $ERR_TYPE))
    (call $check {{"export_to_table index 9"}} (call $export_to_table (local.get $ia) (i32.const 9) (local.get $slot)) (global.get $ERR_RANGE))
    (call $check {{"export_to_table table index = size"}}
      (call $export_to_table (local.get $ia) (i32.const 6) (table.size 0)) (global.get $ERR_RANGE))
    (call $check {{"export_to_table table index 0xffffffff"}}
      (call $export_to_table (local.get $ia) (i32.const 6) (i32.const 0xffffffff)) (global.get $ERR_RANGE))
    (call $check {{"export_to_table instance 0"}} (call $export_to_table (i32.const 0) (i32.const 0) (local.get $slot)) (global.get $ERR_BADHANDLE))
    (call $check {{"export_to_table type before table range"}}
      (call $export_to_table (local.get $ia) (i32.const 1) (i32.const 0xffffffff)) (global.get $ERR_TYPE))
    (call $check {{"export_to_table failures leave the slot"}} (call_indirect (type $ret_i32) (local.get $slot)) (i32.const 7))
    (call $check {{"export_to_table main _start"}} (call $export_to_table (local.get $mi) (i32.const 0) (local.get $slot)) (global.get $OK))
    (call $check_true {{"export_to_table main _start is set"}} (i32.eqz (ref.is_null (table.get 0 (local.get $slot)))))
    (i32.const 0))
