// link: dynamic
// args: alpha "beta gamma"
// A dynamically linked program: ld.so from the guest root loads libc and libm.
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) printf("argv[%d] = %s\n", i > 0 ? i : 0, i > 0 ? argv[i] : "(program)");
    double sum = 0;
    for (int i = 1; i <= 1000; i++) sum += sin(i) * cbrt(i) + log1p(i);
    printf("sum=%.9f pow=%.6f\n", sum, pow(2.5, 3.25));
    char *copy = strdup("dynamic");
    printf("%s %zu\n", copy, strlen(copy));
    free(copy);
    // dlopen of a library the program does not link against.
    void *libm = dlopen("libm.so.6", RTLD_NOW);
    double (*hypot_fn)(double, double) = libm ? (double (*)(double, double))dlsym(libm, "hypot") : NULL;
    printf("dlopen %s hypot=%.3f\n", libm ? "ok" : dlerror(), hypot_fn ? hypot_fn(3, 4) : -1.0);
    return 7;
}
