int hook_data = 77;
int hook(void) { return 1234; }
