;; A program whose _start traps: the runner exits with 134.
(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 2 funcref))
  (func (export "_start") unreachable))
