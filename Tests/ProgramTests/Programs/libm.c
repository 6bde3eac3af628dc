// libm: transcendental functions, rounding, classification, conversions.
#include <stdio.h>
#include <math.h>
#include <fenv.h>

int main(void) {
    double xs[] = {0.0, 0.5, 1.0, 2.0, -3.25, 10.0, 1e-10, 123.456};
    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double x = xs[i];
        printf("x=%g sin=%.15g cos=%.15g tan=%.15g exp=%.15g log1p=%.15g atan=%.15g\n",
               x, sin(x), cos(x), tan(x), exp(x), log1p(fabs(x)), atan(x));
        printf("  sqrt=%.15g cbrt=%.15g pow=%.15g fmod=%.15g hypot=%.15g\n",
               sqrt(fabs(x)), cbrt(x), pow(fabs(x), 1.5), fmod(x, 0.7), hypot(x, 3.0));
        printf("  floor=%g ceil=%g round=%g trunc=%g rint=%g lround=%ld llrint=%lld\n",
               floor(x), ceil(x), round(x), trunc(x), rint(x), lround(x), llrint(x));
    }
    float f = 2.75f;
    printf("sinf=%.7g expf=%.7g sqrtf=%.7g powf=%.7g\n", sinf(f), expf(f), sqrtf(f), powf(f, 2.5f));
    printf("fmin=%g fmax=%g copysign=%g fabs=%g\n", fmin(-0.0, 0.0), fmax(NAN, 1.0), copysign(3.0, -0.0), fabs(-7.5));
    printf("isnan=%d isinf=%d signbit=%d fpclassify=%d %d %d\n", isnan(NAN), isinf(-INFINITY), signbit(-0.0),
           fpclassify(0.0), fpclassify(1e-310), fpclassify(1.0));
    int e;
    double m = frexp(48.0, &e);
    printf("frexp=%g %d ldexp=%g modf=", m, e, ldexp(0.75, 6));
    double ip;
    printf("%g %g\n", modf(-3.75, &ip), ip);
    fesetround(FE_UPWARD);
    printf("rint upward=%g %g\n", rint(2.1), rint(-2.9));
    fesetround(FE_TONEAREST);
    printf("conversions: %d %u %ld %d\n", (int)-3.99, (unsigned)3.99, (long)1e18, (int)(float)16777217);
    return 0;
}
