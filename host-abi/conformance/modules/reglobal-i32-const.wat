;; Re-exports an imported immutable i32 global (export 0).
(module (import "env" "g" (global $g i32)) (export "g" (global $g)))
