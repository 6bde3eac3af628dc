#ifndef PAGELIFT_HOST_FLOAT_H
#define PAGELIFT_HOST_FLOAT_H
#include <stdint.h>

/// The SSE exception flags (MXCSR bits 0-5) of the calling thread. While translated code
/// runs they accrue the guest's floating-point exceptions.
uint32_t pagelift_host_float_flags(void);
void pagelift_set_host_float_flags(uint32_t flags);

/// Moves the accrued host flags into a RISC-V fcsr word (as NX, UF, OF, DZ, NV) and clears
/// them, so fcsr alone holds the guest's flags. Called by translated code before it reads
/// or writes fflags or fcsr.
void pagelift_fold_float_flags(uint32_t *fcsr);

#endif
