;; No imports; exports of every kind, in this order (export indices):
;; 0 seven: () -> i32 = 7     1 answer: i32 = 42        2 minus1: i32 = -1
;; 3 big: i64                  4 float: f32              5 counter: mut i32
;; 6 bump: () -> i32           7 mem: memory             8 seven64: () -> i64
(module
  (func (export "seven") (result i32) (i32.const 7))
  (global (export "answer") i32 (i32.const 42))
  (global (export "minus1") i32 (i32.const -1))
  (global (export "big") i64 (i64.const 0x1122334455667788))
  (global (export "float") f32 (f32.const 1.5))
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (func (export "bump") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.get $counter))
  (memory (export "mem") 0)
  (func (export "seven64") (result i64) (i64.const 7)))
