  ;; __wasmdl_init returns non-zero: the process cannot start (127), and the
  ;; program does not run.
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (call $say {{"init-fails: returning 5"}})
    (i32.const 5))
