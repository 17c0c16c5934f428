extern int program_value;
int traced(void) { return program_value * 2; }
