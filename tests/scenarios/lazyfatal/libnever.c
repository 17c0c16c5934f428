int never_defined(void);
int call_it(void) { return never_defined(); }
