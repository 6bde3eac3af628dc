// setjmp/longjmp across frames, including from deep recursion.
#include <stdio.h>
#include <setjmp.h>

static jmp_buf target;
static int depth_reached;

static void descend(int depth) {
    volatile char pad[64];
    pad[0] = (char)depth;
    if (depth == 500) { depth_reached = depth + pad[0] - (char)depth; longjmp(target, depth); }
    descend(depth + 1);
}

int main(void) {
    volatile int rounds = 0;
    int value = setjmp(target);
    rounds++;
    if (value == 0) descend(0);
    printf("longjmp returned %d after %d rounds, depth %d\n", value, rounds, depth_reached);
    jmp_buf second;
    volatile int counter = 0;
    if (setjmp(second) < 5) { counter++; longjmp(second, counter); }
    printf("counter=%d\n", counter);
    return 0;
}
