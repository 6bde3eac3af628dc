// printf of integers and floating-point values in many formats.
#include <stdio.h>
#include <stdint.h>
#include <inttypes.h>
#include <float.h>
#include <limits.h>
#include <math.h>

int main(void) {
    long long values[] = {0, 1, -1, 42, -42, INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN, 1234567890123LL};
    for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++)
        printf("%lld %llx %llo %20lld|%-8lld|%+lld\n", values[i], values[i], values[i], values[i], values[i], values[i]);
    printf("%" PRIu64 " %" PRId32 " %hhd %hu\n", UINT64_MAX, INT32_MIN, (signed char)200, (unsigned short)70000);
    double doubles[] = {0.0, -0.0, 1.0, -1.5, 3.14159265358979, 1e-300, 1e300, DBL_MAX, DBL_MIN, 5e-324, 0.1, 2.5, 1.0 / 3.0};
    for (unsigned i = 0; i < sizeof doubles / sizeof doubles[0]; i++)
        printf("%f %e %g %.17g %a\n", doubles[i], doubles[i], doubles[i], doubles[i], doubles[i]);
    float floats[] = {0.1f, 1.0f / 3.0f, 16777217.0f, FLT_MAX, FLT_MIN};
    for (unsigned i = 0; i < sizeof floats / sizeof floats[0]; i++) printf("%.9g %a\n", floats[i], floats[i]);
    volatile double zero = 0.0;
    printf("%f %f %f %f\n", 1.0 / zero, -1.0 / zero, zero / zero, sqrt(-1.0));
    printf("%.0f %.0f %.0f %.0f\n", 0.5, 1.5, 2.5, -0.5);
    printf("%10.3f|%-10.2e|%010.4f\n", 3.14159, 31415.9, -2.71828);
    return 0;
}
