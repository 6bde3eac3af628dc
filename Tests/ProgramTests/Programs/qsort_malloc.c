// qsort and heavy malloc/realloc/free churn.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_ints(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    unsigned seed = 12345;
    enum { N = 20000 };
    int *numbers = malloc(N * sizeof *numbers);
    for (int i = 0; i < N; i++) { seed = seed * 1103515245 + 12345; numbers[i] = (int)(seed >> 8) % 100000 - 50000; }
    qsort(numbers, N, sizeof *numbers, compare_ints);
    long long checksum = 0;
    for (int i = 0; i < N; i++) checksum = checksum * 31 + numbers[i];
    printf("sorted: first=%d last=%d checksum=%lld\n", numbers[0], numbers[N - 1], checksum);

    char *words[500];
    for (int i = 0; i < 500; i++) {
        seed = seed * 1103515245 + 12345;
        words[i] = malloc(16);
        snprintf(words[i], 16, "w%08x", seed);
    }
    qsort(words, 500, sizeof words[0], compare_strings);
    printf("words: %s %s %s\n", words[0], words[250], words[499]);
    for (int i = 0; i < 500; i++) free(words[i]);

    void *blocks[1000] = {0};
    size_t total = 0;
    for (int round = 0; round < 100000; round++) {
        seed = seed * 1103515245 + 12345;
        int slot = (seed >> 4) % 1000;
        size_t size = (seed >> 14) % 4096 + 1;
        if (blocks[slot] && (seed & 1)) { free(blocks[slot]); blocks[slot] = NULL; }
        else { blocks[slot] = realloc(blocks[slot], size); memset(blocks[slot], round & 0xff, size); total += size; }
    }
    for (int i = 0; i < 1000; i++) free(blocks[i]);
    void *big = malloc(64 << 20);
    memset(big, 1, 64 << 20);
    free(big);
    printf("churn allocated %zu bytes\n", total);
    free(numbers);
    return 0;
}
