  ;; last_error: the message of the last failing call; never fails.
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (local $n i32) (local $end i32)
    (local.set $end (call $memsize))
    (call $check {{"last_error before any failure is 0"}} (call $last_error (call $buf) (i32.const 64)) (i32.const 0))
    (call $check {{"last_error module_free of a bad handle fails"}}
      (call $module_free (i32.const 0x7fffffff)) (global.get $ERR_BADHANDLE))
    (local.set $n (call $last_error (i32.const 0) (i32.const 0)))
    (call $check_true {{"last_error has a message"}} (i32.gt_u (local.get $n) (i32.const 4)))
    ;; cap 4: exactly 4 bytes copied (0xaa never starts UTF-8 text).
    (call $fill (call $buf) (i32.const 0xaa) (i32.const 256))
    (call $check {{"last_error cap 4 returns the length"}} (call $last_error (call $buf) (i32.const 4)) (local.get $n))
    (call $check_true {{"last_error cap 4 copies byte 0"}} (i32.ne (i32.load8_u (call $buf)) (i32.const 0xaa)))
    (call $check_true {{"last_error cap 4 copies byte 3"}} (i32.ne (i32.load8_u offset=3 (call $buf)) (i32.const 0xaa)))
    (call $check {{"last_error cap 4 copies no byte 4"}} (i32.load8_u offset=4 (call $buf)) (i32.const 0xaa))
    ;; cap larger than the message: the message and nothing more.
    (call $fill (call $buf) (i32.const 0xaa) (i32.const 256))
    (call $check {{"last_error cap 200 returns the length"}} (call $last_error (call $buf) (i32.const 200)) (local.get $n))
    (call $check_true {{"last_error cap 200 copies the last byte"}}
      (i32.ne (i32.load8_u (i32.add (call $buf) (i32.sub (local.get $n) (i32.const 1)))) (i32.const 0xaa)))
    (call $check {{"last_error cap 200 copies no more"}}
      (i32.load8_u (i32.add (call $buf) (local.get $n))) (i32.const 0xaa))
    ;; Invalid ranges copy nothing and still return the length.
    (i32.store16 (i32.sub (local.get $end) (i32.const 2)) (i32.const 0xaaaa))
    (call $check {{"last_error range crossing the end"}}
      (call $last_error (i32.sub (local.get $end) (i32.const 2)) (i32.const 200)) (local.get $n))
    (call $check {{"last_error range crossing the end copies nothing"}}
      (i32.load16_u (i32.sub (local.get $end) (i32.const 2))) (i32.const 0xaaaa))
    (call $check {{"last_error buffer at the end"}} (call $last_error (local.get $end) (i32.const 1)) (local.get $n))
    (call $check {{"last_error buffer 0xffffffff cap 0xffffffff"}}
      (call $last_error (i32.const 0xffffffff) (i32.const 0xffffffff)) (local.get $n))
    (call $check {{"last_error cap 0"}} (call $last_error (local.get $end) (i32.const 0)) (local.get $n))
    ;; A successful call keeps the message.
    (call $check {{"last_error global_new succeeds"}}
      (call $global_new (i32.const 0x7f) (i32.const 0) (i64.const 1) (call $out)) (global.get $OK))
    (call $check {{"last_error kept after a success"}} (call $last_error (i32.const 0) (i32.const 0)) (local.get $n))
    (i32.const 0))
