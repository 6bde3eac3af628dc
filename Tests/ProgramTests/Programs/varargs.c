// Variadic functions with integer and floating-point arguments.
#include <stdio.h>
#include <stdarg.h>

static double sum(int count, ...) {
    va_list list;
    va_start(list, count);
    double total = 0;
    for (int i = 0; i < count; i++) {
        if (i % 2 == 0) total += va_arg(list, int);
        else total += va_arg(list, double);
    }
    va_end(list);
    return total;
}

static void log_line(const char *format, ...) {
    char buffer[128];
    va_list list;
    va_start(list, format);
    vsnprintf(buffer, sizeof buffer, format, list);
    va_end(list);
    printf("[log] %s\n", buffer);
}

int main(void) {
    printf("sum=%g\n", sum(6, 1, 2.5, 3, 4.25, 5, 6.125));
    printf("sum=%g\n", sum(12, 1, 1.0, 2, 2.0, 3, 3.0, 4, 4.0, 5, 5.0, 6, 6.5));
    log_line("%d %s %f %c %ld", 7, "seven", 7.5, '7', 7000000000L);
    return 0;
}
