// cflags: -march=rv64gc_zba_zbb_zbs
// Bit manipulation the compiler turns into Zba, Zbb and Zbs instructions.
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) static uint64_t mix(uint64_t x, uint64_t y, unsigned k) {
    uint64_t r = (x << (k & 63)) | (x >> ((64 - k) & 63));          // rol
    r ^= ~y & x;                                                     // andn
    r += (uint64_t)__builtin_popcountll(y) + __builtin_clzll(y | 1) + __builtin_ctzll(x | 0x100);
    r |= 1ull << (k % 64);                                           // bset
    r &= ~(1ull << ((k + 7) % 64));                                  // bclr
    return r ^ __builtin_bswap64(y);                                 // rev8
}

int main(void) {
    uint64_t table[64], x = 0x0123456789abcdefull, total = 0;
    for (int i = 0; i < 64; i++) table[i] = x * (uint64_t)(i + 1);
    for (unsigned i = 0; i < 100000; i++) {
        x = mix(x, table[i & 63], i);
        uint32_t w = (uint32_t)x;
        total += table[(w >> 3) & 63] + (uint64_t)(int8_t)w + (uint16_t)(x >> 16);   // sh3add, sext.b, zext.h
        total += (x >> (i % 64)) & 1;                                                  // bext
        int64_t a = (int64_t)x, b = (int64_t)total;
        total += (uint64_t)(a > b ? a : b) + (x < total ? x : total);                  // max, minu
    }
    printf("%016llx %016llx\n", (unsigned long long)x, (unsigned long long)total);
    return 0;
}
