// Long floating-point loops in every rounding mode: optimized code assumes round-to-nearest-even
// and must hand the other modes to code that honours them, also in the middle of a run.
#include <fenv.h>
#include <stdio.h>

static volatile int count = 200000;

__attribute__((noinline)) static double harmonic(void) {
    double sum = 0, product = 1;
    for (int i = 1; i <= count; i++) {
        sum += 1.0 / i;
        product *= 1.0 + 1.0 / (i + 3.0);
        if (product > 1e6) product /= 1e6;
    }
    return sum + product;
}

__attribute__((noinline)) static float harmonicSingle(void) {
    float sum = 0;
    for (int i = 1; i <= count; i++) sum += 1.0f / (float)i;
    return sum;
}

int main(void) {
    const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO, FE_TONEAREST, FE_UPWARD};
    const char *names[] = {"nearest", "upward", "downward", "toward zero", "nearest", "upward"};
    for (int round = 0; round < 6; round++) {
        fesetround(modes[round]);
        double d = harmonic();
        float f = harmonicSingle();
        long converted = (long)(d * 1e12);
        printf("%-12s %a %a %ld\n", names[round], d, (double)f, converted);
    }
    fesetround(FE_TONEAREST);
    return 0;
}
