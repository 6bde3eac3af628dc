// Call-heavy code: recursion and calls through function pointers.
#include <stdio.h>
typedef long (*fn)(long);
static long f0(long x) { return x * 3 + 1; }
static long f1(long x) { return x ^ 0x5555; }
static long f2(long x) { return x - 7; }
static long f3(long x) { return (x << 1) | 1; }
static fn table[4] = {f0, f1, f2, f3};
__attribute__((noinline)) static long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
__attribute__((noinline)) static long walk(long x, int n) { for (int i = 0; i < n; i++) x = table[(x ^ i) & 3](x) & 0xffffffff; return x; }
int main(void) {
    long a = fib(38);
    long b = walk(1, 300000000);
    printf("%ld %ld\n", a, b);
    return 0;
}
