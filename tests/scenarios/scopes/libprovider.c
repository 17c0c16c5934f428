int provided(void) { return 42; }
