;; Well-formed but invalid (returns an i64 as an i32): ERR_COMPILE.
;; Assembled with wat2wasm --no-check.
(module (func (result i32) (i64.const 1)))
