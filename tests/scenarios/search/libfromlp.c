int fromlp(void) { return 3; }
