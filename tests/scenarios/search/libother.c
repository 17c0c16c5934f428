int other(void) { return 2; }
