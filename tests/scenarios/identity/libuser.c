/* NEEDs libid.so (by name, found through LD_LIBRARY_PATH). */
int id_bump(void);
int user_bump(void) { return id_bump(); }
