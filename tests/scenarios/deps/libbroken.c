int needs_missing(void);
int broken(void) { return needs_missing(); }
