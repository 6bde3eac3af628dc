// Floating point: dense matrix multiplication.
#include <stdio.h>
#include <stdlib.h>
enum { N = 320 };
int main(void) {
    double *a = malloc(N * N * sizeof(double)), *b = malloc(N * N * sizeof(double)), *c = calloc(N * N, sizeof(double));
    for (int i = 0; i < N * N; i++) { a[i] = (i % 17) * 0.25 - 1.5; b[i] = (i % 23) * 0.125 + 0.5; }
    for (int round = 0; round < 200; round++)
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                double aik = a[i * N + k];
                for (int j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
            }
    double trace = 0;
    for (int i = 0; i < N; i++) trace += c[i * N + i] + c[i * N + (N - 1 - i)];
    printf("%.6f\n", trace);
    return 0;
}
