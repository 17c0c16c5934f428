int hook(void) __attribute__((weak));
extern int hook_data __attribute__((weak));
int probe(void) { return hook ? hook() : -1; }
int probe_data(void) { return &hook_data ? hook_data : -1; }
