/* Built as an ordinary module (no -shared): no dylink.0 section. */
int plain(void) { return 1; }
