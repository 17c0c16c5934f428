int provided(void);
int use_provided(void) { return provided() + 1; }
