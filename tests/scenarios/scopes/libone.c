int counter;
const char *name(void) { return "one"; }
int bump(void) { return ++counter; }
