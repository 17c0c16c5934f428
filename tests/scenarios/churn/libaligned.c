unsigned char bss_block[4096] __attribute__((aligned(1024)));
int data_block[256] __attribute__((aligned(1024))) = {1, 2, 3};
