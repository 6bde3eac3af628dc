// LZ77-style compression and decompression of generated text.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
enum { N = 1 << 20, WINDOW = 4096 };
static int compress(const unsigned char *in, int n, unsigned char *out) {
    static int head[1 << 16];
    memset(head, -1, sizeof head);
    int o = 0, i = 0;
    while (i < n) {
        int best = 0, dist = 0;
        if (i + 3 <= n) {
            int h = (in[i] << 8 ^ in[i + 1] << 4 ^ in[i + 2]) & 0xffff;
            int c = head[h];
            if (c >= 0 && i - c < WINDOW) {
                int l = 0;
                while (i + l < n && l < 255 && in[c + l] == in[i + l]) l++;
                if (l >= 4) { best = l; dist = i - c; }
            }
            head[h] = i;
        }
        if (best) { out[o++] = 0xff; out[o++] = best; out[o++] = dist >> 8; out[o++] = dist & 0xff; i += best; }
        else { if (in[i] == 0xff) out[o++] = 0xff, out[o++] = 0; else out[o++] = in[i]; i++; }
    }
    return o;
}
static int decompress(const unsigned char *in, int n, unsigned char *out) {
    int o = 0;
    for (int i = 0; i < n;) {
        if (in[i] != 0xff) { out[o++] = in[i++]; continue; }
        int l = in[i + 1];
        if (!l) { out[o++] = 0xff; i += 2; continue; }
        int d = in[i + 2] << 8 | in[i + 3];
        for (int k = 0; k < l; k++, o++) out[o] = out[o - d];
        i += 4;
    }
    return o;
}
int main(void) {
    unsigned char *text = malloc(N), *packed = malloc(2 * N), *back = malloc(N);
    const char *words[] = {"lorem ", "ipsum ", "dolor ", "sit ", "amet ", "pagelift ", "riscv ", "llvm "};
    unsigned state = 9;
    long total = 0;
    for (int round = 0; round < 160; round++) {
        for (int i = 0; i < N;) { state = state * 1103515245 + 12345 + round; const char *w = words[(state >> 16) % 8]; while (*w && i < N) text[i++] = *w++; }
        int size = compress(text, N, packed);
        int restored = decompress(packed, size, back);
        if (restored != N || memcmp(text, back, N)) { printf("mismatch\n"); return 1; }
        total += size;
    }
    printf("%ld\n", total);
    return 0;
}
