int later_fn(int x) { return x + 100; }
