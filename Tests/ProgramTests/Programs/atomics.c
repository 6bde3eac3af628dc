// C11 atomics compile to LR/SC and AMO instructions.
#include <stdatomic.h>
#include <stdio.h>

int main(void) {
    _Atomic long counter = 0;
    _Atomic int flags = 0;
    _Atomic unsigned small = 5;
    for (int i = 0; i < 1000; i++) {
        atomic_fetch_add(&counter, i);
        atomic_fetch_or(&flags, 1 << (i % 31));
        atomic_fetch_xor(&flags, i & 0x55);
    }
    long expected = 5;
    int swapped = atomic_compare_exchange_strong(&counter, &expected, 7);
    printf("counter=%ld swapped=%d expected=%ld\n", (long)counter, swapped, expected);
    expected = counter;
    swapped = atomic_compare_exchange_strong(&counter, &expected, -1);
    printf("counter=%ld swapped=%d\n", (long)counter, swapped);
    printf("exchange=%ld flags=%x\n", atomic_exchange(&counter, 99), (unsigned)flags);
    atomic_fetch_and(&flags, 0xff00);
    atomic_fetch_sub(&small, 10);
    printf("flags=%x small=%u\n", (unsigned)flags, (unsigned)small);
    return 0;
}
