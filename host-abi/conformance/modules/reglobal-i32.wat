;; Re-exports an imported mutable i32 global (export 0), to read it back.
(module (import "env" "g" (global $g (mut i32))) (export "g" (global $g)))
