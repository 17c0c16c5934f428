int later_fn(int);
int ready(void) { return 1; }
int use_later(int x) { return later_fn(x) * 2; }
