int ping(int);
int pong(int n) { return n <= 0 ? 100 : 10 + ping(n - 1); }
