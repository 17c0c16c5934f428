/* Test extension: needs wasmdl_provided_answer, which only
 * _wasmdl_provider defines (not linked against it: the symbol must come
 * from the global scope, as with RTLD_GLOBAL on ELF). */
#include <Python.h>

int wasmdl_provided_answer(int x);

static PyObject *answer(PyObject *self, PyObject *arg)
{
    long x = PyLong_AsLong(arg);
    if (x == -1 && PyErr_Occurred()) return NULL;
    return PyLong_FromLong(wasmdl_provided_answer((int)x));
}

static PyMethodDef consumer_methods[] = {
    {"answer", answer, METH_O, "6 * x, computed by _wasmdl_provider"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef consumer_module = {
    PyModuleDef_HEAD_INIT, "_wasmdl_consumer", "uses a C symbol of another module", 0, consumer_methods,
};

PyMODINIT_FUNC PyInit__wasmdl_consumer(void) { return PyModule_Create(&consumer_module); }
