;; IMPORT_HOST for an ABI function with the wrong type: ERR_LINK.
(module (import "wasmdl_host_v0" "module_free" (func (param i64) (result i32))))
