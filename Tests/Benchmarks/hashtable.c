// A hash table: open addressing, inserts, lookups and deletes.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
enum { CAP = 1 << 21 };
static uint64_t keys[CAP], vals[CAP];
static uint64_t mix(uint64_t k) { k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33; return k; }
static void put(uint64_t k, uint64_t v) { uint64_t i = mix(k) & (CAP - 1); while (keys[i] && keys[i] != k) i = (i + 1) & (CAP - 1); keys[i] = k; vals[i] = v; }
static uint64_t get(uint64_t k) { uint64_t i = mix(k) & (CAP - 1); while (keys[i]) { if (keys[i] == k) return vals[i]; i = (i + 1) & (CAP - 1); } return 0; }
int main(void) {
    uint64_t sum = 0;
    for (int round = 0; round < 18; round++) {
        for (uint64_t k = 1; k <= 1000000; k++) put(k * 2654435761ULL + round, k ^ round);
        for (uint64_t k = 1; k <= 2000000; k++) sum += get(k * 2654435761ULL + round);
        for (int i = 0; i < CAP; i++) keys[i] = 0;
    }
    printf("%llu\n", (unsigned long long)sum);
    return 0;
}
