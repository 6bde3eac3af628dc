// Floating-point exception flags read back with fetestexcept after single operations and
// after a hot loop: a program that reads its flags gets them exact, in every tier.
#include <fenv.h>
#include <math.h>
#include <stdio.h>

static volatile double zero = 0.0, one = 1.0, three = 3.0, big = 1e308, tiny = 1e-308, negative = -1.0;
static volatile float singleThird = 1.0f / 3.0f;

static void report(const char *what) {
    int raised = fetestexcept(FE_ALL_EXCEPT);
    printf("%-10s%s%s%s%s%s\n", what, raised & FE_INVALID ? " invalid" : "", raised & FE_DIVBYZERO ? " divbyzero" : "",
           raised & FE_OVERFLOW ? " overflow" : "", raised & FE_UNDERFLOW ? " underflow" : "",
           raised & FE_INEXACT ? " inexact" : "");
    feclearexcept(FE_ALL_EXCEPT);
}

__attribute__((noinline)) static double sumOfInverses(int n, double scale) {
    double sum = 0;
    for (int i = 1; i <= n; i++) sum += scale / i;
    return sum;
}

__attribute__((noinline)) static double sumOfIntegers(int n) {
    double sum = 0;
    for (int i = 1; i <= n; i++) sum += i;
    return sum;
}

int main(void) {
    volatile double result;
    feclearexcept(FE_ALL_EXCEPT);
    result = one + one; report("exact");
    result = one / three; report("inexact");
    result = one / zero; report("divide");
    result = zero / zero; report("invalid");
    result = big * big; report("overflow");
    result = tiny * tiny; report("underflow");
    result = sqrt(negative); report("sqrt");
    result = (double)singleThird; report("widen");
    volatile long converted = (long)big; report("convert");
    for (int round = 0; round < 50; round++) {
        result = sumOfIntegers(2000); if (round == 49) report("integers");
        result = sumOfInverses(2000, 1.0); if (round == 49) report("inverses");
        result = sumOfInverses(2000, 0.0); if (round == 49) report("zeros");
    }
    (void)result; (void)converted;
    return 0;
}
