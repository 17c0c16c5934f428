  ;; __wasmdl_init traps: the process cannot start (127).
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (call $say {{"init-traps: unreachable"}})
    unreachable)
