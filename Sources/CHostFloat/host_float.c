#include <xmmintrin.h>
#include "host_float.h"

enum { hostFlagMask = 0x3f };

uint32_t pagelift_host_float_flags(void) {
    return _mm_getcsr() & hostFlagMask;
}

void pagelift_set_host_float_flags(uint32_t flags) {
    _mm_setcsr((_mm_getcsr() & ~(uint32_t)hostFlagMask) | (flags & hostFlagMask));
}

void pagelift_fold_float_flags(uint32_t *fcsr) {
    uint32_t host = pagelift_host_float_flags();
    // x86: IE=1 DE=2 ZE=4 OE=8 UE=16 PE=32; RISC-V: NX=1 UF=2 OF=4 DZ=8 NV=16. DE has no RISC-V meaning.
    uint32_t flags = (host & 0x01 ? 16 : 0) | (host & 0x04 ? 8 : 0) | (host & 0x08 ? 4 : 0)
                   | (host & 0x10 ? 2 : 0) | (host & 0x20 ? 1 : 0);
    *fcsr |= flags;
    pagelift_set_host_float_flags(0);
}
