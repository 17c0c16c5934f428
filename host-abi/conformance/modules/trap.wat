;; A start function that traps: ERR_INSTANTIATE.
(module (func $start unreachable) (start $start))
