int not_defined_anywhere(int);
int calls_missing(int x) { return not_defined_anywhere(x); }
