  ;; global_new, global_set, global_free; values read back through modules
  ;; that re-export an imported global (export 0).
  (func $instantiate_with (param $bytes i32) (param $len i32) (param $g i32) (result i32)
    (drop (call $module_compile (local.get $bytes) (local.get $len) (call $out2)))
    (call $desc (i32.const 0) (global.get $IMPORT_GLOBAL) (local.get $g) (i32.const 0))
    (drop (call $instance_new (i32.load (call $out2)) (call $descs) (i32.const 1) (call $out2)))
    (i32.load (call $out2)))
  (func $read (param $i i32) (result i32) ;; the low half; the high half at out+4
    (drop (call $export_global_get (local.get $i) (i32.const 0) (call $out)))
    (i32.load (call $out)))
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (local $g32 i32) (local $imm i32) (local $g64 i32) (local $i32 i32) (local $iimm i32) (local $i64 i32) (local $end i32)
    (local.set $end (call $memsize))
    ;; global_new.
    (call $check {{"global_new i32 mutable"}}
      (call $global_new (i32.const 0x7f) (i32.const 1) (i64.const 0x100000005) (call $out)) (global.get $OK))
    (local.set $g32 (i32.load (call $out)))
    (call $check_true {{"global_new handle is not 0"}} (local.get $g32))
    (call $check {{"global_new i32 immutable"}}
      (call $global_new (i32.const 0x7f) (i32.const 0) (i64.const -1) (call $out)) (global.get $OK))
    (local.set $imm (i32.load (call $out)))
    (call $check {{"global_new i64 mutable"}}
      (call $global_new (i32.const 0x7e) (i32.const 1) (i64.const 0x1122334455667788) (call $out)) (global.get $OK))
    (local.set $g64 (i32.load (call $out)))
    (call $check_true {{"global_new handles differ"}}
      (i32.and (i32.ne (local.get $g32) (local.get $imm)) (i32.ne (local.get $imm) (local.get $g64))))
    (local.set $i32 (call $instantiate_with {{bytes reglobal-i32}} (local.get $g32)))
    (local.set $iimm (call $instantiate_with {{bytes reglobal-i32-const}} (local.get $imm)))
    (local.set $i64 (call $instantiate_with {{bytes reglobal-i64}} (local.get $g64)))
    (call $check {{"global_new i32 value truncated"}} (call $read (local.get $i32)) (i32.const 5))
    (call $check {{"global_new i32 -1"}} (call $read (local.get $iimm)) (i32.const 0xffffffff))
    (call $check {{"global_new i64 low"}} (call $read (local.get $i64)) (i32.const 0x55667788))
    (call $check {{"global_new i64 high"}} (i32.load offset=4 (call $out)) (i32.const 0x11223344))
    ;; global_new: hostile.
    (call $check {{"global_new f32"}} (call $global_new (i32.const 0x7d) (i32.const 0) (i64.const 0) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"global_new valtype 0"}} (call $global_new (i32.const 0) (i32.const 0) (i64.const 0) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"global_new valtype 0x17f"}} (call $global_new (i32.const 0x17f) (i32.const 0) (i64.const 0) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"global_new mutable 2"}} (call $global_new (i32.const 0x7f) (i32.const 2) (i64.const 0) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"global_new mutable 0xffffffff"}}
      (call $global_new (i32.const 0x7f) (i32.const 0xffffffff) (i64.const 0) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"global_new out crossing the end"}}
      (call $global_new (i32.const 0x7f) (i32.const 0) (i64.const 0) (i32.sub (local.get $end) (i32.const 2))) (global.get $ERR_FAULT))
    (call $check {{"global_new out at 0xffffffff"}}
      (call $global_new (i32.const 0x7f) (i32.const 0) (i64.const 0) (i32.const 0xffffffff)) (global.get $ERR_FAULT))
    (call $check {{"global_new inval before fault"}}
      (call $global_new (i32.const 0x7d) (i32.const 0) (i64.const 0) (local.get $end)) (global.get $ERR_INVAL))

    ;; global_set.
    (call $check {{"global_set i32"}} (call $global_set (local.get $g32) (i64.const 0x200000009)) (global.get $OK))
    (call $check {{"global_set i32 takes the low 32 bits"}} (call $read (local.get $i32)) (i32.const 9))
    (call $check {{"global_set i64"}} (call $global_set (local.get $g64) (i64.const -2)) (global.get $OK))
    (call $check {{"global_set i64 low"}} (call $read (local.get $i64)) (i32.const 0xfffffffe))
    (call $check {{"global_set i64 high"}} (i32.load offset=4 (call $out)) (i32.const 0xffffffff))
    (call $check {{"global_set immutable"}} (call $global_set (local.get $imm) (i64.const 1)) (global.get $ERR_TYPE))
    (call $check {{"global_set immutable keeps the value"}} (call $read (local.get $iimm)) (i32.const 0xffffffff))
    (call $check {{"global_set handle 0"}} (call $global_set (i32.const 0) (i64.const 1)) (global.get $ERR_BADHANDLE))
    (call $check {{"global_set handle 0xffffffff"}} (call $global_set (i32.const 0xffffffff) (i64.const 1)) (global.get $ERR_BADHANDLE))

    ;; global_free.
    (call $check {{"global_free"}} (call $global_free (local.get $g32)) (global.get $OK))
    (call $check {{"global_free twice"}} (call $global_free (local.get $g32)) (global.get $ERR_BADHANDLE))
    (call $check {{"global_free handle 0"}} (call $global_free (i32.const 0)) (global.get $ERR_BADHANDLE))
    (call $check {{"global_set after global_free"}} (call $global_set (local.get $g32) (i64.const 1)) (global.get $ERR_BADHANDLE))
    (call $check {{"importers keep a freed global"}} (call $read (local.get $i32)) (i32.const 9))
    (drop (call $module_compile {{bytes reglobal-i32}} (call $out2)))
    (call $desc (i32.const 0) (global.get $IMPORT_GLOBAL) (local.get $g32) (i32.const 0))
    (call $check {{"instance_new with a freed global"}}
      (call $instance_new (i32.load (call $out2)) (call $descs) (i32.const 1) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"global_new after global_free"}}
      (call $global_new (i32.const 0x7f) (i32.const 1) (i64.const 0) (call $out)) (global.get $OK))
    (call $check_true {{"global handles are not reissued"}}
      (i32.and (i32.ne (i32.load (call $out)) (local.get $g32))
        (i32.and (i32.ne (i32.load (call $out)) (local.get $imm)) (i32.ne (i32.load (call $out)) (local.get $g64)))))
    (i32.const 0))
