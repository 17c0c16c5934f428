;; A data segment outside the (imported) memory: ERR_INSTANTIATE.
(module
  (import "env" "memory" (memory 1))
  (data (i32.const 0xfffffff0) "outside"))
