  ;; proc_exit in __wasmdl_init: the process ends with that status, and the
  ;; program does not run.
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (call $say {{"exit-in-init: proc_exit(3)"}})
    (call $proc_exit (i32.const 3))
    (call $say {{"exit-in-init: still running"}})
    (i32.const 0))
