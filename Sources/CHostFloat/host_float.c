#include <xmmintrin.h>
#include "host_float.h"

enum { hostFlagMask = 0x3f };

uint32_t pagelift_host_float_flags(void) {
    return _mm_getcsr() & hostFlagMask;
}

void pagelift_set_host_float_flags(uint32_t flags) {
    _mm_setcsr((_mm_getcsr() & ~(uint32_t)hostFlagMask) | (flags & hostFlagMask));
}
