;; IMPORT_HOST for a name the host does not define: ERR_LINK.
(module (import "wasmdl_host_v0" "no_such_function" (func (param i32) (result i32))))
