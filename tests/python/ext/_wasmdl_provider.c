/* Test extension: defines a C function for _wasmdl_consumer. Imported with
 * sys.setdlopenflags(os.RTLD_NOW | os.RTLD_GLOBAL), its symbols are offered
 * to modules loaded later; with CPython's default (RTLD_NOW, local) they are
 * not. */
#include <Python.h>

int wasmdl_provided_answer(int x) { return 6 * x; }

static PyModuleDef provider_module = {
    PyModuleDef_HEAD_INIT, "_wasmdl_provider", "provides a C symbol", 0, NULL,
};

PyMODINIT_FUNC PyInit__wasmdl_provider(void) { return PyModule_Create(&provider_module); }
