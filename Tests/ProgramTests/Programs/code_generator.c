// A guest that generates code: 300 rounds of writing a function into an executable page, making it
// visible with fence.i (or __builtin___clear_cache, the riscv_flush_icache syscall), and calling it.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef long (*Generated)(long);

// addi a0, a0, imm; ret
static void emit(uint32_t *code, int imm) {
    code[0] = ((uint32_t)(imm & 0xfff) << 20) | (10 << 15) | (10 << 7) | 0x13;
    code[1] = 0x00008067;
}

int main(void) {
    uint32_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    Generated function = (Generated)page;
    long sum = 0, wrong = 0;
    for (int round = 0; round < 300; round++) {
        emit(page, round);
        if (round % 2) {
            __asm__ volatile("fence.i" ::: "memory");
        } else {
            __builtin___clear_cache((char *)page, (char *)(page + 2));
        }
        long result = function(1000);
        sum += result;
        wrong += result != 1000 + round;
    }
    printf("sum %ld, wrong results %ld of 300\n", sum, wrong);
    return 0;
}
