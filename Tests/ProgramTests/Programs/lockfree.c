// Lock-free structures under contention: a Treiber stack (compare-and-swap, which is LR/SC),
// counters with every AMO, and a ticket lock, on 8 threads.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { threadCount = 8, pushesEach = 5000 };

struct node { struct node *next; long value; };
static _Atomic(struct node *) top;
static struct node nodes[threadCount * pushesEach];

static void push(struct node *node) {
    struct node *old = atomic_load_explicit(&top, memory_order_relaxed);
    do node->next = old;
    while (!atomic_compare_exchange_weak_explicit(&top, &old, node, memory_order_release, memory_order_relaxed));
}

static _Atomic long added, maximum = -1, minimum = 1L << 40;
static _Atomic unsigned long orBits, andBits = ~0UL, xorBits;
static _Atomic unsigned nextTicket, serving;
static long ticketProtected;

static void *work(void *argument) {
    long index = (long)argument;
    for (int i = 0; i < pushesEach; i++) {
        struct node *node = &nodes[index * pushesEach + i];
        node->value = index * pushesEach + i;
        push(node);
        atomic_fetch_add(&added, node->value);
        long seen = atomic_load(&maximum);
        while (seen < node->value && !atomic_compare_exchange_weak(&maximum, &seen, node->value)) {}
        seen = atomic_load(&minimum);
        while (seen > node->value && !atomic_compare_exchange_weak(&minimum, &seen, node->value)) {}
        atomic_fetch_or(&orBits, 1UL << (node->value % 64));
        atomic_fetch_and(&andBits, ~(1UL << ((node->value * 7) % 64)));
        atomic_fetch_xor(&xorBits, (unsigned long)node->value * 0x9e3779b97f4a7c15UL);
        if (i % 10 == 0) {
            unsigned ticket = atomic_fetch_add(&nextTicket, 1);
            while (atomic_load_explicit(&serving, memory_order_acquire) != ticket) {}
            ticketProtected += index;
            atomic_store_explicit(&serving, ticket + 1, memory_order_release);
        }
    }
    return 0;
}

int main(void) {
    pthread_t threads[threadCount];
    for (long i = 0; i < threadCount; i++) pthread_create(&threads[i], 0, work, (void *)i);
    for (int i = 0; i < threadCount; i++) pthread_join(threads[i], 0);
    long count = 0, sum = 0;
    for (struct node *node = top; node; node = node->next) { count++; sum += node->value; }
    long n = threadCount * pushesEach;
    printf("stack holds %ld nodes, sum %ld (expected %ld)\n", count, sum, n * (n - 1) / 2);
    printf("added=%ld max=%ld min=%ld or=%lx and=%lx xor=%lx\n", (long)added, (long)maximum, (long)minimum,
           (unsigned long)orBits, (unsigned long)andBits, (unsigned long)xorBits);
    printf("ticket lock: %ld\n", ticketProtected);
    return 0;
}
