;; IMPORT_HOST for something only libdl provides: ERR_LINK.
(module (import "env" "memory" (memory 1)))
