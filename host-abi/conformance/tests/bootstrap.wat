  ;; "Starting a process": where the shim put libdl, and what it passed to
  ;; __wasmdl_init. The program declares 1 page and 2 table entries; this
  ;; guest's MEM_INFO asks for 2^21 data alignment, 3 table slots aligned
  ;; to 4; the stack is the default 1 MiB.
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (local $len i32)
    ;; The stack: from the end of the program's memory (1 page), 1 MiB, grows down.
    (call $check {{"bootstrap __stack_pointer is the top of a 1 MiB stack"}}
      (global.get $__stack_pointer) (i32.const 0x110000))
    ;; libdl's data: the next address aligned to 2^21.
    (call $check {{"bootstrap __memory_base aligned after the stack"}}
      (global.get $__memory_base) (i32.const 0x200000))
    ;; Memory grown to hold it all, and no more.
    (call $check {{"bootstrap memory size in pages"}}
      (memory.size)
      (i32.div_u (i32.add (i32.add (global.get $__memory_base) (global.get $scratch_offset))
                          (i32.const 0x1ffff))
                 (i32.const 0x10000)))
    (call $check {{"bootstrap new pages are zero"}}
      (i32.or (i32.load (call $buf)) (i32.load (i32.sub (global.get $__stack_pointer) (i32.const 4))))
      (i32.const 0))
    ;; The table: libdl's slots at 4 (2 rounded up to 4), 3 of them.
    (call $check {{"bootstrap __table_base"}} (global.get $__table_base) (i32.const 4))
    (call $check {{"bootstrap table size"}} (table.size 0) (i32.const 7))
    ;; The four handles.
    (call $check_true {{"bootstrap libdl module handle is not 0"}} (local.get $lm))
    (call $check_true {{"bootstrap libdl instance handle is not 0"}} (local.get $li))
    (call $check_true {{"bootstrap main module handle is not 0"}} (local.get $mm))
    (call $check_true {{"bootstrap main instance handle is not 0"}} (local.get $mi))
    (call $check_true {{"bootstrap module handles differ"}} (i32.ne (local.get $lm) (local.get $mm)))
    (call $check_true {{"bootstrap instance handles differ"}} (i32.ne (local.get $li) (local.get $mi)))
    ;; module_bytes of both: this guest starts with its dylink.0 section.
    (call $check {{"bootstrap module_bytes libdl"}}
      (call $module_bytes (local.get $lm) (call $buf) (i32.const 0xe000) (call $out)) (global.get $OK))
    (local.set $len (i32.load (call $out)))
    (call $check_true {{"bootstrap libdl length"}} (i32.gt_u (local.get $len) (i32.const 16)))
    (call $check {{"bootstrap libdl magic"}} (i32.load (call $buf)) (i32.const 0x6d736100))
    (call $check {{"bootstrap libdl first section is custom"}} (i32.load8_u offset=8 (call $buf)) (i32.const 0))
    (call $check_true {{"bootstrap libdl first section is dylink.0"}}
      (call $memeq (i32.add (call $buf) (i32.const 11)) {{"dylink.0"}} (i32.const 8)))
    (call $check {{"bootstrap module_bytes main"}}
      (call $module_bytes (local.get $mm) (call $buf) (i32.const 0xe000) (call $out)) (global.get $OK))
    (call $check {{"bootstrap main magic"}} (i32.load (call $buf)) (i32.const 0x6d736100))
    ;; The instances: the program's exports are _start (0) and answer (1).
    (call $fill (call $out) (i32.const 0xff) (i32.const 8))
    (call $check {{"bootstrap export_global_get main answer"}}
      (call $export_global_get (local.get $mi) (i32.const 1) (call $out)) (global.get $OK))
    (call $check {{"bootstrap main answer is 77"}} (i32.load (call $out)) (i32.const 77))
    (call $check {{"bootstrap main answer zero-extended"}} (i32.load offset=4 (call $out)) (i32.const 0))
    (call $check {{"bootstrap export_global_get main _start"}}
      (call $export_global_get (local.get $mi) (i32.const 0) (call $out)) (global.get $ERR_TYPE))
    (call $check {{"bootstrap export_global_get main out of range"}}
      (call $export_global_get (local.get $mi) (i32.const 2) (call $out)) (global.get $ERR_RANGE))
    ;; This guest's one export, __wasmdl_init, into libdl's first slot.
    (call $check {{"bootstrap export_to_table libdl __wasmdl_init"}}
      (call $export_to_table (local.get $li) (i32.const 0) (global.get $__table_base)) (global.get $OK))
    (call $check_true {{"bootstrap slot is set"}} (i32.eqz (ref.is_null (table.get 0 (global.get $__table_base)))))
    (call $check {{"bootstrap export_to_table libdl out of range"}}
      (call $export_to_table (local.get $li) (i32.const 1) (global.get $__table_base)) (global.get $ERR_RANGE))
    (call $say {{"bootstrap: __wasmdl_init returns 0"}})
    (i32.const 0))
