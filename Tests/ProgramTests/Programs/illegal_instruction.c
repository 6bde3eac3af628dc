// expect-signal
// Executing an encoding outside RV64GC: the guest dies by SIGILL (status 132).
#include <stdio.h>

int main(void) {
    printf("before the illegal instruction\n");
    fflush(stdout);
    __asm__ volatile(".word 0xffffffff");
    printf("not reached\n");
    return 0;
}
