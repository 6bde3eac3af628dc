#define _GNU_SOURCE
#include <string.h>
#include "host_syscall.h"

static uint64_t recorded;
static siginfo_t infos[65];

void pagelift_record_signal(int signal, siginfo_t *info, void *context) {
    (void)context;
    if (signal < 1 || signal > 64) return;
    if (info) memcpy(&infos[signal], info, sizeof infos[signal]);
    __atomic_fetch_or(&recorded, (uint64_t)1 << (signal - 1), __ATOMIC_SEQ_CST);
}

uint64_t pagelift_take_recorded_signals(void) {
    return __atomic_exchange_n(&recorded, 0, __ATOMIC_SEQ_CST);
}

void pagelift_recorded_signal_info(int signal, void *out) {
    if (signal >= 1 && signal <= 64) memcpy(out, &infos[signal], 128);
}

uint64_t pagelift_recorded_signals(void) {
    return __atomic_load_n(&recorded, __ATOMIC_SEQ_CST);
}
