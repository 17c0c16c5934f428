/* The program defines program_add(int, int); this plugin believes otherwise. */
double program_add(double);
double wrong(double x) { return program_add(x); }
