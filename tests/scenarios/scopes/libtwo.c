int counter;
const char *name(void) { return "two"; }
int bump(void) { return ++counter; }
