int later(void) { return 1; }
