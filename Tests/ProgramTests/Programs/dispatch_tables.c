// Calls through function-pointer tables and dense switch statements (jump tables).
#include <stdio.h>

typedef long (*operation)(long, long);
static long op_add(long a, long b) { return a + b; }
static long op_sub(long a, long b) { return a - b; }
static long op_mul(long a, long b) { return a * b; }
static long op_div(long a, long b) { return b ? a / b : 0; }
static long op_mod(long a, long b) { return b ? a % b : 0; }
static long op_xor(long a, long b) { return a ^ b; }

static const operation table[] = {op_add, op_sub, op_mul, op_div, op_mod, op_xor};

__attribute__((noinline)) static long classify(unsigned value) {
    switch (value % 16) {
    case 0: return 11; case 1: return value * 3; case 2: return value ^ 0x55; case 3: return -7;
    case 4: return value >> 2; case 5: return 100; case 6: return value + 17; case 7: return value * value;
    case 8: return 8; case 9: return value - 99; case 10: return 1010; case 11: return value & 0xf0;
    case 12: return value | 3; case 13: return 13 * 13; case 14: return ~value; default: return 0;
    }
}

int main(void) {
    long accumulator = 1;
    unsigned state = 7;
    for (int i = 0; i < 200000; i++) {
        state = state * 1664525 + 1013904223;
        accumulator = table[state % 6](accumulator, (long)(state >> 20) + 1);
        accumulator += classify(state >> 3);
        accumulator &= 0xffffffffffffL;
    }
    printf("accumulator=%ld\n", accumulator);
    return 0;
}
