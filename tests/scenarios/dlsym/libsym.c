int factor = 3;
long long big = 1234567890123LL;
const char *motto = "data lives in the plugin";
int scale(int x) { return x * factor; }
