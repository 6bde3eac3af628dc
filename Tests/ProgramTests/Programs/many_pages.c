// Code spanning hundreds of pages: 2000 functions, each large enough to fill a good
// part of a page, called through a table and calling each other across pages.
#include <stdio.h>

typedef unsigned long (*step)(unsigned long, int);
extern const step steps[2000];

#define MIX(k) x = (x ^ (x >> (13 + (k) % 7))) * (0x9E3779B97F4A7C15UL + number * 2 + (k)); \
               if ((x & 0xff) == number % 251) x += (k);
#define FUNCTION(n) \
    __attribute__((noinline)) unsigned long f##n(unsigned long x, int hops) { \
        const unsigned long number = n; \
        MIX(1) MIX(2) MIX(3) MIX(4) MIX(5) MIX(6) MIX(7) MIX(8) MIX(9) MIX(10) MIX(11) MIX(12) \
        if (hops > 0) x = steps[(x >> 7) % 2000](x, hops - 1); \
        return x + (n); \
    }
#define D0(p) FUNCTION(p##0) FUNCTION(p##1) FUNCTION(p##2) FUNCTION(p##3) FUNCTION(p##4) \
              FUNCTION(p##5) FUNCTION(p##6) FUNCTION(p##7) FUNCTION(p##8) FUNCTION(p##9)
#define D1(p) D0(p##0) D0(p##1) D0(p##2) D0(p##3) D0(p##4) D0(p##5) D0(p##6) D0(p##7) D0(p##8) D0(p##9)
D1(1) D1(2) D1(3) D1(4) D1(5) D1(6) D1(7) D1(8) D1(9) D1(10) D1(11) D1(12) D1(13) D1(14) D1(15)
D1(16) D1(17) D1(18) D1(19) D1(20)

#define R0(p) f##p##0, f##p##1, f##p##2, f##p##3, f##p##4, f##p##5, f##p##6, f##p##7, f##p##8, f##p##9,
#define R1(p) R0(p##0) R0(p##1) R0(p##2) R0(p##3) R0(p##4) R0(p##5) R0(p##6) R0(p##7) R0(p##8) R0(p##9)
const step steps[2000] = { R1(1) R1(2) R1(3) R1(4) R1(5) R1(6) R1(7) R1(8) R1(9) R1(10) R1(11) R1(12) R1(13)
                           R1(14) R1(15) R1(16) R1(17) R1(18) R1(19) R1(20) };

int main(void) {
    unsigned long x = 1;
    for (int i = 0; i < 2000; i++) x = steps[i](x, 2);
    printf("checksum=%lx\n", x);
    return 0;
}
