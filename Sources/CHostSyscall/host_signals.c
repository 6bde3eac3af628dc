#define _GNU_SOURCE
#include <string.h>
#include "host_syscall.h"

// Per host thread, which is one guest thread: the kernel picks the thread a process-directed
// signal goes to by the threads' masks (each the guest thread's), so each records its own.
static _Thread_local uint64_t recorded;
static _Thread_local siginfo_t infos[65];
static _Thread_local volatile uint32_t *pending_flag;

void pagelift_record_signal(int signal, siginfo_t *info, void *context) {
    (void)context;
    if (signal < 1 || signal > 64) return;
    if (info) memcpy(&infos[signal], info, sizeof infos[signal]);
    __atomic_fetch_or(&recorded, (uint64_t)1 << (signal - 1), __ATOMIC_SEQ_CST);
    if (pending_flag) __atomic_store_n(pending_flag, 1, __ATOMIC_SEQ_CST);
}

void pagelift_set_signal_flag(uint32_t *flag) { pending_flag = flag; }

uint64_t pagelift_take_recorded_signals(void) {
    return __atomic_exchange_n(&recorded, 0, __ATOMIC_SEQ_CST);
}

void pagelift_recorded_signal_info(int signal, void *out) {
    if (signal >= 1 && signal <= 64) memcpy(out, &infos[signal], 128);
}

uint64_t pagelift_recorded_signals(void) {
    return __atomic_load_n(&recorded, __ATOMIC_SEQ_CST);
}

static _Thread_local void *current_cpu;
void pagelift_set_current_cpu(void *cpu) { current_cpu = cpu; }
void *pagelift_current_cpu(void) { return current_cpu; }
