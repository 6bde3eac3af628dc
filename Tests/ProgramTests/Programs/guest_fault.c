// expect-signal
// A write through a wild pointer: the guest dies by SIGSEGV, as under the kernel.
#include <stdio.h>

int main(void) {
    printf("before the fault\n");
    fflush(stdout);
    volatile int *wild = (int *)0x12345678;
    *wild = 1;
    printf("not reached\n");
    return 0;
}
