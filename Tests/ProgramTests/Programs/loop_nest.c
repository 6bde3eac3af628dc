// args: 3
// A loop nest whose outer loop comes round only a few times: tier-up has to take over the
// inner loop while it runs (see DifferentialTests.optimizedCodeTakesOverARunningInnerLoop).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 1;
    unsigned long sum = 0;
    // No call in the nest: the return from one would be a second way into the outer loop.
    for (int round = 0; round < rounds; round++)
        for (unsigned long i = 0; i < 2000000; i++) sum = sum * 31 + (i ^ (unsigned long)round);
    printf("%lx\n", sum);
    return 0;
}
