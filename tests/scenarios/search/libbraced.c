int other(void);
int braced(void) { return other(); }
