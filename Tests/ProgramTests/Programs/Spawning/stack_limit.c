// Uses 150 MB of stack: fine under `ulimit -s 204800`, as the kernel sizes the stack by RLIMIT_STACK.
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static long deep(int depth) {
    volatile char frame[64 << 10];
    for (unsigned i = 0; i < sizeof frame; i += 512) frame[i] = (char)depth;
    if (depth == 0) return frame[512];
    long below = deep(depth - 1);
    return below + frame[1024];  // read after the call: the frame lives across it
}

int main(void) {
    printf("sum %ld\n", deep(150 * 16));
    return 0;
}
