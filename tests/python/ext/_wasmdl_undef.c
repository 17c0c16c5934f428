/* Test extension: calls a function nobody defines, so importing it must
 * fail with an ImportError that names the symbol, and the interpreter must
 * carry on. */
#include <Python.h>

int wasmdl_no_such_function(void);

static PyObject *call(PyObject *self, PyObject *unused) { return PyLong_FromLong(wasmdl_no_such_function()); }

static PyMethodDef undef_methods[] = {
    {"call", call, METH_NOARGS, "calls an undefined function"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef undef_module = {
    PyModuleDef_HEAD_INIT, "_wasmdl_undef", "imports an undefined symbol", 0, undef_methods,
};

PyMODINIT_FUNC PyInit__wasmdl_undef(void) { return PyModule_Create(&undef_module); }
