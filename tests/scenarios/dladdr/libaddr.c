int table[10];
const char label[] = "a label";
int target_fn(int x) { return x * 3; }
static int hidden_fn(int x) { return x - 3; }
void *get_hidden(void) { return (void *)hidden_fn; }
