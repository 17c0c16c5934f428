;; Re-exports an imported mutable i64 global (export 0).
(module (import "env" "g" (global $g (mut i64))) (export "g" (global $g)))
