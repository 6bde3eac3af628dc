// OpenMP (libgomp, linked statically): parallel loops with reductions, critical sections, tasks.
// cflags: -fopenmp
#include <omp.h>
#include <stdio.h>

static long fibonacci(int n) {
    if (n < 2) return n;
    long a, b;
#pragma omp task shared(a) if (n > 15)
    a = fibonacci(n - 1);
#pragma omp task shared(b) if (n > 15)
    b = fibonacci(n - 2);
#pragma omp taskwait
    return a + b;
}

int main(void) {
    omp_set_num_threads(4);
    long sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(dynamic, 64)
    for (long i = 0; i < 200000; i++) sum += i % 13;
    printf("reduction=%ld\n", sum);

    int threadsSeen = 0;
#pragma omp parallel
    {
#pragma omp critical
        threadsSeen++;
    }
    printf("threads in the parallel region=%d\n", threadsSeen);

    double matrix[64][64], vector[64], result[64];
    for (int i = 0; i < 64; i++) {
        vector[i] = i * 0.5;
        for (int j = 0; j < 64; j++) matrix[i][j] = (i + j) % 5;
    }
#pragma omp parallel for
    for (int i = 0; i < 64; i++) {
        double row = 0;
        for (int j = 0; j < 64; j++) row += matrix[i][j] * vector[j];
        result[i] = row;
    }
    double check = 0;
    for (int i = 0; i < 64; i++) check += result[i];
    printf("matrix-vector checksum=%.1f\n", check);

    long fib = 0;
#pragma omp parallel
#pragma omp single
    fib = fibonacci(24);
    printf("fibonacci(24)=%ld\n", fib);
    return 0;
}
