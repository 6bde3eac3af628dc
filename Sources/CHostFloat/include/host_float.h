#ifndef PAGELIFT_HOST_FLOAT_H
#define PAGELIFT_HOST_FLOAT_H
#include <stdint.h>

/// The SSE exception flags (MXCSR bits 0-5) of the calling thread. While translated code
/// runs they accrue the guest's floating-point exceptions: the guest's fflags are fcsr's
/// flag bits or'ed with these (in RISC-V's order). Runtime code saves and restores them.
uint32_t pagelift_host_float_flags(void);
void pagelift_set_host_float_flags(uint32_t flags);

#endif
