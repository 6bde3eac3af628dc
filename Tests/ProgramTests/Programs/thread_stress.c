// Many threads missing on new code at once: 8 threads call 256 functions spread over many
// pages in different orders (each miss translates a page other threads may want too; at
// --tier-threshold 1 each also tiers up under them), while another thread rewrites and runs
// generated code (fence.i invalidates) and maps and unmaps memory.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define PAD asm volatile(".rept 160\n nop\n .endr")
#define F(n) __attribute__((noinline)) static long f##n(long x) { PAD; return x * (n + 3) + (n ^ (x & 15)); }
#define F16(n) F(n##0) F(n##1) F(n##2) F(n##3) F(n##4) F(n##5) F(n##6) F(n##7) \
               F(n##8) F(n##9) F(n##a) F(n##b) F(n##c) F(n##d) F(n##e) F(n##f)
#define R(n) f##n##0, f##n##1, f##n##2, f##n##3, f##n##4, f##n##5, f##n##6, f##n##7, \
             f##n##8, f##n##9, f##n##a, f##n##b, f##n##c, f##n##d, f##n##e, f##n##f
F16(0x1) F16(0x2) F16(0x3) F16(0x4) F16(0x5) F16(0x6) F16(0x7) F16(0x8)
F16(0x9) F16(0xa) F16(0xb) F16(0xc) F16(0xd) F16(0xe) F16(0xf) F16(0x10)

static long (*const functions[256])(long) = {
    R(0x1), R(0x2), R(0x3), R(0x4), R(0x5), R(0x6), R(0x7), R(0x8),
    R(0x9), R(0xa), R(0xb), R(0xc), R(0xd), R(0xe), R(0xf), R(0x10),
};

static void *callAll(void *argument) {
    long seed = (long)argument, total = 0;
    for (int round = 0; round < 40; round++)
        for (int i = 0; i < 256; i++) {
            int which = (i * (2 * seed + 1) + round * seed) & 255;
            total += functions[which](i + round) & 0xffff;
        }
    return (void *)total;
}

// li a0, value; ret  (addi a0, zero, value; jalr zero, 0(ra))
static void *rewrite(void *argument) {
    unsigned *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long sum = 0;
    for (int round = 0; round < 300; round++) {
        code[0] = 0x00000513 | ((unsigned)(round & 0x7ff) << 20);
        code[1] = 0x00008067;
        __builtin___clear_cache((char *)code, (char *)(code + 2));
        sum += ((long (*)(void))code)();
        void *scratch = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        memset(scratch, round, 65536);
        munmap(scratch, 65536);
    }
    munmap(code, 4096);
    return (void *)sum;
}

int main(void) {
    pthread_t threads[9];
    for (long i = 0; i < 8; i++) pthread_create(&threads[i], 0, callAll, (void *)(i + 1));
    pthread_create(&threads[8], 0, rewrite, 0);
    long results[9];
    for (int i = 0; i < 9; i++) { void *result; pthread_join(threads[i], &result); results[i] = (long)result; }
    for (int i = 0; i < 8; i++) {
        long serial = (long)callAll((void *)(long)(i + 1));
        printf("thread %d: %ld (serial %ld)\n", i, results[i], serial);
    }
    printf("generated code returned %ld (expected %d)\n", results[8], 299 * 300 / 2);
    return 0;
}
