  ;; proc_exit in a start function run by instance_new ends the process
  ;; with that status: it is not an ERR_INSTANTIATE.
  (func (export "__wasmdl_init") (param $lm i32) (param $li i32) (param $mm i32) (param $mi i32) (result i32)
    (drop (call $module_compile {{bytes exit-in-start}} (call $out)))
    (call $desc (i32.const 0) (global.get $IMPORT_HOST) (i32.const 0) (i32.const 0))
    (call $say {{"exit-in-start: instance_new runs proc_exit(42)"}})
    (call $check {{"exit-in-start: instance_new returned"}}
      (call $instance_new (i32.load (call $out)) (call $descs) (i32.const 1) (call $out)) (i32.const 42))
    (i32.const 0))
