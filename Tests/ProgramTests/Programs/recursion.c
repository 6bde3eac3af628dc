// Deep and branchy recursion: the guest stack grows, the host stack must not.
#include <stdio.h>

__attribute__((noinline)) static unsigned long ackermann(unsigned long m, unsigned long n) {
    if (m == 0) return n + 1;
    if (n == 0) return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

__attribute__((noinline)) static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

__attribute__((noinline)) static long depth(long n) {
    volatile long local = n;
    return n == 0 ? 0 : 1 + depth(local - 1);
}

int main(void) {
    printf("ackermann(2, 300)=%lu\n", ackermann(2, 300));
    printf("ackermann(3, 6)=%lu\n", ackermann(3, 6));
    printf("fib(27)=%ld\n", fib(27));
    printf("depth=%ld\n", depth(100000));
    return 0;
}
