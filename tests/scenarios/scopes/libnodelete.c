int stays(void) { return 5; }
