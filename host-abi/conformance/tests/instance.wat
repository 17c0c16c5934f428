  ;; instance_new with every descriptor kind, valid and hostile; instance_free.
  ;; modules/linked.wat: imports 0 memory, 1 table, 2 __stack_pointer,
  ;; 3 g (i32), 4 m (mut i64), 5 seven (func), 6 fd_write (WASI),
  ;; 7 table_grow (this ABI).
  (global $ia (mut i32) (i32.const 0)) ;; an instance of answer.wat
  (global $g5 (mut i32) (i32.const 0)) ;; immutable i32 global = 5
  (global $g64 (mut i32) (i32.const 0)) ;; mutable i64 global
  (global $gmut (mut i32) (i32.const 0)) ;; mutable i32 global

  ;; The 8 valid descriptors for linked.wat.
  (func $good
    (call $desc (i32.const 0) (global.get $IMPORT_MEMORY) (i32.const 0) (i32.const 0))
    (call $desc (i32.const 1) (global.get $IMPORT_TABLE) (i32.const 0) (i32.const 0))
    (call $desc (i32.const 2) (global.get $IMPORT_STACK_POINTER) (i32.const 0) (i32.const 0))
    (call $desc (i32.const 3) (global.get $IMPORT_GLOBAL) (global.get $g5) (i32.const 0))
    (call $desc (i32.const 4) (global.get $IMPORT_GLOBAL) (global.get $g64) (i32.const 0))
    (call $desc (i32.const 5) (global.get $IMPORT_EXPORT) (global.get $ia) (i32.const 0))
    (call $desc (i32.const 6) (global.get $IMPORT_HOST) (i32.const 0) (i32.const 0))
    (call $desc (i32.const 7) (global.get $IMPORT_HOST) (i32.const 0) (i32.const 0)))

  ;; Instantiates module $m with the valid descriptors, descriptor $i
  ;; replaced by (kind, a, b), and checks the result code.
  (func $try (param $name i32) (param $m i32) (param $i i32) (param $kind i32) (param $a i32) (param $b i32) (param $want i32)
    (call $good)
    (call $desc (local.get $i) (local.get $kind) (local.get $a) (local.get $b))
    (call $check (local.get $name)
      (call $instance_new (local.get $m) (call $descs) (i32.const 8) (call $out)) (local.get $want)))

  ;; Calls table slot $slot as () -> i32.
  (func $call0 (param $slot i32) (result i32) (call_indirect (type $ret_i32) (local.get $slot)))

  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (local $ma i32) (local $ml i32) (local $m i32) (local $il i32) (local $slot i32) (local $end i32) (local $r i32)
    (local.set $end (call $memsize))
    (drop (call $module_compile {{bytes answer}} (call $out)))
    (local.set $ma (i32.load (call $out)))
    (call $check {{"instance_new no imports"}}
      (call $instance_new (local.get $ma) (call $descs) (i32.const 0) (call $out)) (global.get $OK))
    (global.set $ia (i32.load (call $out)))
    (call $check_true {{"instance_new handle is not 0"}} (global.get $ia))
    (drop (call $global_new (i32.const 0x7f) (i32.const 0) (i64.const 5) (call $out)))
    (global.set $g5 (i32.load (call $out)))
    (drop (call $global_new (i32.const 0x7e) (i32.const 1) (i64.const 0x100000003) (call $out)))
    (global.set $g64 (i32.load (call $out)))
    (drop (call $global_new (i32.const 0x7f) (i32.const 1) (i64.const 0) (call $out)))
    (global.set $gmut (i32.load (call $out)))
    (call $check {{"module_compile linked"}} (call $module_compile {{bytes linked}} (call $out)) (global.get $OK))
    (local.set $ml (i32.load (call $out)))

    ;; Wrong counts, bad module handles, bad ranges.
    (call $good)
    (call $check {{"instance_new count 7"}}
      (call $instance_new (local.get $ml) (call $descs) (i32.const 7) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"instance_new count 9"}}
      (call $instance_new (local.get $ml) (call $descs) (i32.const 9) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"instance_new count 0"}}
      (call $instance_new (local.get $ml) (call $descs) (i32.const 0) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"instance_new count 0xffffffff"}}
      (call $instance_new (local.get $ml) (call $descs) (i32.const 0xffffffff) (call $out)) (global.get $ERR_INVAL))
    (call $check {{"instance_new module 0"}}
      (call $instance_new (i32.const 0) (call $descs) (i32.const 8) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"instance_new module 0xffffffff"}}
      (call $instance_new (i32.const 0xffffffff) (call $descs) (i32.const 8) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"instance_new descriptors crossing the end"}}
      (call $instance_new (local.get $ml) (i32.sub (local.get $end) (i32.const 90)) (i32.const 8) (call $out))
      (global.get $ERR_FAULT))
    (call $check {{"instance_new descriptors ptr+len overflows"}}
      (call $instance_new (local.get $ml) (i32.const 0xfffffff0) (i32.const 8) (call $out)) (global.get $ERR_FAULT))
    (call $check {{"instance_new out crossing the end"}}
      (call $instance_new (local.get $ml) (call $descs) (i32.const 8) (i32.sub (local.get $end) (i32.const 2)))
      (global.get $ERR_FAULT))

    ;; Unknown kinds, unused fields not zero.
    (call $try {{"instance_new kind 0"}} (local.get $ml) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (global.get $ERR_INVAL))
    (call $try {{"instance_new kind 7"}} (local.get $ml) (i32.const 0) (i32.const 7) (i32.const 0) (i32.const 0) (global.get $ERR_INVAL))
    (call $try {{"instance_new memory a=1"}} (local.get $ml) (i32.const 0) (global.get $IMPORT_MEMORY) (i32.const 1) (i32.const 0) (global.get $ERR_INVAL))
    (call $try {{"instance_new table b=1"}} (local.get $ml) (i32.const 1) (global.get $IMPORT_TABLE) (i32.const 0) (i32.const 1) (global.get $ERR_INVAL))
    (call $try {{"instance_new stack pointer a=1"}} (local.get $ml) (i32.const 2) (global.get $IMPORT_STACK_POINTER) (i32.const 1) (i32.const 0) (global.get $ERR_INVAL))
    (call $try {{"instance_new global b=1"}} (local.get $ml) (i32.const 3) (global.get $IMPORT_GLOBAL) (global.get $g5) (i32.const 1) (global.get $ERR_INVAL))
    (call $try {{"instance_new host a=1"}} (local.get $ml) (i32.const 6) (global.get $IMPORT_HOST) (i32.const 1) (i32.const 0) (global.get $ERR_INVAL))
    (call $try {{"instance_new host b=1"}} (local.get $ml) (i32.const 7) (global.get $IMPORT_HOST) (i32.const 0) (i32.const 1) (global.get $ERR_INVAL))

    ;; Wrong kinds and types.
    (call $try {{"instance_new table for a memory"}} (local.get $ml) (i32.const 0) (global.get $IMPORT_TABLE) (i32.const 0) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new memory for a table"}} (local.get $ml) (i32.const 1) (global.get $IMPORT_MEMORY) (i32.const 0) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new stack pointer for a memory"}} (local.get $ml) (i32.const 0) (global.get $IMPORT_STACK_POINTER) (i32.const 0) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new memory for a function"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_MEMORY) (i32.const 0) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new immutable global for the stack pointer"}} (local.get $ml) (i32.const 2) (global.get $IMPORT_GLOBAL) (global.get $g5) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new stack pointer for an immutable global"}} (local.get $ml) (i32.const 3) (global.get $IMPORT_STACK_POINTER) (i32.const 0) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new mutable global for an immutable one"}} (local.get $ml) (i32.const 3) (global.get $IMPORT_GLOBAL) (global.get $gmut) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new i64 global for an i32 one"}} (local.get $ml) (i32.const 3) (global.get $IMPORT_GLOBAL) (global.get $g64) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new i32 global for an i64 one"}} (local.get $ml) (i32.const 4) (global.get $IMPORT_GLOBAL) (global.get $gmut) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new global for a function"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_GLOBAL) (global.get $g5) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new exported global for a function"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_EXPORT) (global.get $ia) (i32.const 1) (global.get $ERR_LINK))
    (call $try {{"instance_new exported function of the wrong type"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_EXPORT) (global.get $ia) (i32.const 8) (global.get $ERR_LINK))
    (call $try {{"instance_new exported function for a global"}} (local.get $ml) (i32.const 3) (global.get $IMPORT_EXPORT) (global.get $ia) (i32.const 0) (global.get $ERR_LINK))
    (call $try {{"instance_new exported memory for a table"}} (local.get $ml) (i32.const 1) (global.get $IMPORT_EXPORT) (global.get $ia) (i32.const 7) (global.get $ERR_LINK))
    (call $try {{"instance_new host for env.seven"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_HOST) (i32.const 0) (i32.const 0) (global.get $ERR_LINK))

    ;; Bad handles and indices in descriptors.
    (call $try {{"instance_new global handle 0"}} (local.get $ml) (i32.const 3) (global.get $IMPORT_GLOBAL) (i32.const 0) (i32.const 0) (global.get $ERR_BADHANDLE))
    (call $try {{"instance_new global handle 0xffffffff"}} (local.get $ml) (i32.const 3) (global.get $IMPORT_GLOBAL) (i32.const 0xffffffff) (i32.const 0) (global.get $ERR_BADHANDLE))
    (call $try {{"instance_new instance handle 0"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_EXPORT) (i32.const 0) (i32.const 0) (global.get $ERR_BADHANDLE))
    (call $try {{"instance_new export index 9"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_EXPORT) (global.get $ia) (i32.const 9) (global.get $ERR_RANGE))
    (call $try {{"instance_new export index 0xffffffff"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_EXPORT) (global.get $ia) (i32.const 0xffffffff) (global.get $ERR_RANGE))
    ;; The first bad descriptor decides: a link error at 0, a bad kind at 1.
    (call $good)
    (call $desc (i32.const 0) (global.get $IMPORT_TABLE) (i32.const 0) (i32.const 0))
    (call $desc (i32.const 1) (i32.const 99) (i32.const 0) (i32.const 0))
    (call $check {{"instance_new first bad descriptor decides"}}
      (call $instance_new (local.get $ml) (call $descs) (i32.const 8) (call $out)) (global.get $ERR_LINK))

    ;; IMPORT_HOST for what the host does not define, or with the wrong type.
    (drop (call $module_compile {{bytes bad-host-name}} (call $out)))
    (local.set $m (i32.load (call $out)))
    (call $desc (i32.const 0) (global.get $IMPORT_HOST) (i32.const 0) (i32.const 0))
    (call $check {{"instance_new host without a definition"}}
      (call $instance_new (local.get $m) (call $descs) (i32.const 1) (call $out)) (global.get $ERR_LINK))
    (drop (call $module_compile {{bytes bad-host-abi-type}} (call $out)))
    (local.set $m (i32.load (call $out)))
    (call $check {{"instance_new host ABI function of the wrong type"}}
      (call $instance_new (local.get $m) (call $descs) (i32.const 1) (call $out)) (global.get $ERR_LINK))
    (drop (call $module_compile {{bytes bad-host-wasi-type}} (call $out)))
    (local.set $m (i32.load (call $out)))
    (call $check {{"instance_new host WASI function of the wrong type"}}
      (call $instance_new (local.get $m) (call $descs) (i32.const 1) (call $out)) (global.get $ERR_LINK))
    (drop (call $module_compile {{bytes bad-host-env}} (call $out)))
    (local.set $m (i32.load (call $out)))
    (call $check {{"instance_new host for env.memory"}}
      (call $instance_new (local.get $m) (call $descs) (i32.const 1) (call $out)) (global.get $ERR_LINK))

    ;; Failures after linking.
    (drop (call $module_compile {{bytes trap}} (call $out)))
    (local.set $m (i32.load (call $out)))
    (call $check {{"instance_new start function traps"}}
      (call $instance_new (local.get $m) (call $descs) (i32.const 0) (call $out)) (global.get $ERR_INSTANTIATE))
    (drop (call $module_compile {{bytes oob-data}} (call $out)))
    (local.set $m (i32.load (call $out)))
    (call $desc (i32.const 0) (global.get $IMPORT_MEMORY) (i32.const 0) (i32.const 0))
    (call $check {{"instance_new data segment outside memory"}}
      (call $instance_new (local.get $m) (call $descs) (i32.const 1) (call $out)) (global.get $ERR_INSTANTIATE))
    (call $check {{"instance_new leaves memory alone"}}
      (i32.load (i32.sub (local.get $end) (i32.const 16))) (i32.const 0))

    ;; Everything linked, and used through the table.
    (call $good)
    (call $check {{"instance_new every kind"}}
      (call $instance_new (local.get $ml) (call $descs) (i32.const 8) (call $out)) (global.get $OK))
    (local.set $il (i32.load (call $out)))
    (drop (call $table_grow (i32.const 1) (call $out)))
    (local.set $slot (i32.load (call $out)))
    ;; sum = g (5) + seven() (7), through GLOBAL and EXPORT.
    (call $check {{"export_to_table sum"}} (call $export_to_table (local.get $il) (i32.const 0) (local.get $slot)) (global.get $OK))
    (call $check {{"call sum: global 5 + exported seven"}} (call $call0 (local.get $slot)) (i32.const 12))
    ;; MEMORY: the process memory.
    (i32.store offset=0x20 (call $scratch) (i32.const 0x5eed1234))
    (drop (call $export_to_table (local.get $il) (i32.const 1) (local.get $slot)))
    (call $check {{"call peek: memory is shared"}}
      (call_indirect (type $i32_ret_i32) (i32.add (call $scratch) (i32.const 0x20)) (local.get $slot))
      (i32.const 0x5eed1234))
    ;; STACK_POINTER and TABLE.
    (drop (call $export_to_table (local.get $il) (i32.const 2) (local.get $slot)))
    (call $check {{"call sp: the process stack pointer"}} (call $call0 (local.get $slot)) (global.get $__stack_pointer))
    (drop (call $export_to_table (local.get $il) (i32.const 3) (local.get $slot)))
    (call $check {{"call tsize: the process table"}} (call $call0 (local.get $slot)) (table.size 0))
    ;; GLOBAL, mutable: global_set is seen by the instance.
    (drop (call $export_to_table (local.get $il) (i32.const 4) (local.get $slot)))
    (call $check {{"call m_low: the global's value"}} (call $call0 (local.get $slot)) (i32.const 3))
    (drop (call $global_set (global.get $g64) (i64.const 0x200000009)))
    (call $check {{"call m_low after global_set"}} (call $call0 (local.get $slot)) (i32.const 9))
    (call $check {{"export_global_get m"}} (call $export_global_get (local.get $il) (i32.const 7) (call $out)) (global.get $OK))
    (call $check {{"export_global_get m low"}} (i32.load (call $out)) (i32.const 9))
    (call $check {{"export_global_get m high"}} (i32.load offset=4 (call $out)) (i32.const 2))
    ;; HOST: WASI on the process memory, from a module that exports none.
    (drop (call $export_to_table (local.get $il) (i32.const 5) (local.get $slot)))
    (local.set $r
      (call_indirect (type $i32_i32_ret_i32) {{"linked: fd_write through IMPORT_HOST"}}
        (call $strlen {{"linked: fd_write through IMPORT_HOST"}}) (local.get $slot)))
    (call $say {{""}})
    (call $check {{"call hello: fd_write through IMPORT_HOST"}} (local.get $r) (i32.const 0))
    ;; HOST: this ABI, re-exported and called through the table.
    (drop (call $export_to_table (local.get $il) (i32.const 8) (local.get $slot)))
    (call $check {{"call grow: table_grow through IMPORT_HOST"}}
      (call_indirect (type $i32_i32_ret_i32) (i32.const 1) (call $out2) (local.get $slot)) (global.get $OK))
    (call $check {{"call grow: old size"}} (i32.load (call $out2)) (i32.sub (table.size 0) (i32.const 1)))

    ;; instance_free.
    (drop (call $export_to_table (local.get $il) (i32.const 0) (local.get $slot)))
    (call $check {{"instance_free"}} (call $instance_free (local.get $il)) (global.get $OK))
    (call $check {{"instance_free twice"}} (call $instance_free (local.get $il)) (global.get $ERR_BADHANDLE))
    (call $check {{"instance_free handle 0"}} (call $instance_free (i32.const 0)) (global.get $ERR_BADHANDLE))
    (call $check {{"instance_free handle 0xffffffff"}} (call $instance_free (i32.const 0xffffffff)) (global.get $ERR_BADHANDLE))
    (call $check {{"export_global_get after instance_free"}}
      (call $export_global_get (local.get $il) (i32.const 6) (call $out)) (global.get $ERR_BADHANDLE))
    (call $check {{"export_to_table after instance_free"}}
      (call $export_to_table (local.get $il) (i32.const 0) (local.get $slot)) (global.get $ERR_BADHANDLE))
    (call $check {{"call sum after instance_free"}} (call $call0 (local.get $slot)) (i32.const 12))
    (call $check {{"instance_free an instance others import from"}} (call $instance_free (global.get $ia)) (global.get $OK))
    (call $try {{"instance_new export of a freed instance"}} (local.get $ml) (i32.const 5) (global.get $IMPORT_EXPORT) (global.get $ia) (i32.const 0) (global.get $ERR_BADHANDLE))
    (call $check {{"instance_new again"}}
      (call $instance_new (local.get $ma) (call $descs) (i32.const 0) (call $out)) (global.get $OK))
    (call $check_true {{"instance handles are not reissued"}}
      (i32.and (i32.ne (i32.load (call $out)) (local.get $il)) (i32.ne (i32.load (call $out)) (global.get $ia))))
    (i32.const 0))
