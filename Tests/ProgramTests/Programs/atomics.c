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
    // Orderings weaker than sequential consistency, and a swap whose old value is unused.
    atomic_exchange_explicit(&flags, 3, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    atomic_store_explicit(&small, 9, memory_order_release);
    unsigned seen = atomic_load_explicit(&small, memory_order_acquire);
    long before = atomic_fetch_add_explicit(&counter, 1, memory_order_acq_rel);
    printf("flags=%x small=%u before=%ld after=%ld\n", (unsigned)flags, seen, before, (long)counter);
    return 0;
}
