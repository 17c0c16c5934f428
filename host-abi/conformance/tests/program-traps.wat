  ;; A program whose _start traps: 134, after libdl ran.
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (call $say {{"program-traps: init ran"}})
    (i32.const 0))
