// args: 3
// A compute kernel: SHA-256 style mixing, a sieve and a floating-point n-body step.
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <math.h>

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (long round = 0; round < 300000L * scale; round++) {
        uint32_t a = h[0], e = h[4];
        uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & h[5]) ^ (~e & h[6]);
        uint32_t t1 = h[7] + s1 + ch + (uint32_t)round;
        uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & h[1]) ^ (a & h[2]) ^ (h[1] & h[2]);
        for (int i = 7; i > 0; i--) h[i] = h[i - 1];
        h[4] += t1;
        h[0] = t1 + s0 + maj;
    }
    printf("hash=%08x%08x\n", h[0], h[7]);

    int limit = 200000 * scale;
    char *composite = calloc(limit + 1, 1);
    int primes = 0;
    for (int i = 2; i <= limit; i++) {
        if (composite[i]) continue;
        primes++;
        for (long j = (long)i * i; j <= limit; j += i) composite[j] = 1;
    }
    printf("primes=%d\n", primes);
    free(composite);

    double px[5] = {0, 4.84, 8.34, 12.89, 15.37}, py[5] = {0, -1.16, 4.12, -15.11, -25.91};
    double vx[5] = {0, 0.6, -1.0, 1.08, 0.97}, vy[5] = {0, 2.8, 1.8, 0.86, 0.59};
    double mass[5] = {39.47, 0.037, 0.011, 0.0017, 0.002};
    for (int step = 0; step < 20000 * scale; step++) {
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++) {
                double dx = px[i] - px[j], dy = py[i] - py[j];
                double d2 = dx * dx + dy * dy + 0.01, magnitude = 0.001 / (d2 * sqrt(d2));
                vx[i] -= dx * mass[j] * magnitude; vy[i] -= dy * mass[j] * magnitude;
                vx[j] += dx * mass[i] * magnitude; vy[j] += dy * mass[i] * magnitude;
            }
        for (int i = 0; i < 5; i++) { px[i] += 0.001 * vx[i]; py[i] += 0.001 * vy[i]; }
    }
    printf("position=%.9f %.9f\n", px[1], py[1]);
    return 0;
}
