static int constructed;
__attribute__((constructor)) static void init(void) { constructed = 1; }
int small(void) { return constructed; }
