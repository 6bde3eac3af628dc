// Sorting: quicksort of pseudo-random integers, repeated.
#include <stdio.h>
#include <stdlib.h>
static void sort(int *a, long lo, long hi) {
    while (lo < hi) {
        int pivot = a[(lo + hi) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { int t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { sort(a, lo, j); lo = i; } else { sort(a, i, hi); hi = j; }
    }
}
int main(void) {
    enum { N = 1000000 };
    int *a = malloc(N * sizeof *a);
    unsigned long long checksum = 0, state = 1;
    for (int round = 0; round < 12; round++) {
        for (int i = 0; i < N; i++) { state = state * 6364136223846793005ULL + 1442695040888963407ULL; a[i] = (int)(state >> 33); }
        sort(a, 0, N - 1);
        for (int i = 0; i < N; i += 997) checksum = checksum * 31 + a[i];
    }
    printf("%llx\n", checksum);
    free(a);
    return 0;
}
