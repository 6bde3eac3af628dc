// String search: naive and Horspool search over generated text.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static long horspool(const char *text, long n, const char *pat, long m) {
    long skip[256], count = 0;
    for (int i = 0; i < 256; i++) skip[i] = m;
    for (long i = 0; i < m - 1; i++) skip[(unsigned char)pat[i]] = m - 1 - i;
    for (long i = 0; i + m <= n; i += skip[(unsigned char)text[i + m - 1]])
        if (memcmp(text + i, pat, m) == 0) count++;
    return count;
}
int main(void) {
    enum { N = 1 << 22 };
    char *text = malloc(N + 1);
    unsigned state = 1;
    for (int i = 0; i < N; i++) { state = state * 1664525 + 1013904223; text[i] = "acgt"[(state >> 24) & 3]; }
    text[N] = 0;
    const char *patterns[] = {"acgtacgt", "gattaca", "ttttt", "cagtcagtca", "aaaccc", "gcgcgcgc"};
    long total = 0;
    for (int round = 0; round < 40; round++)
        for (int p = 0; p < 6; p++) total += horspool(text, N, patterns[p], (long)strlen(patterns[p]));
    long naive = 0;
    for (long i = 0; i + 5 <= N; i++) { int k = 0; while (k < 5 && text[i + k] == "ttttt"[k]) k++; naive += k == 5; }
    printf("%ld %ld\n", total, naive);
    return 0;
}
