#define _GNU_SOURCE
#include <unistd.h>
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

// The host's rt_sigaction and rt_sigprocmask without glibc's wrappers, which refuse or drop the
// two real-time signals glibc keeps for itself (32 and 33): a guest's signals 32 and 33 (its
// own libc's SIGCANCEL, SIGSETXID) must reach it as any other.
extern void pagelift_restore_rt(void);
__asm__(".text\n"
        ".globl pagelift_restore_rt\n"
        ".type pagelift_restore_rt, @function\n"
        "pagelift_restore_rt:\n"
        "    mov $15, %rax\n"   // rt_sigreturn
        "    syscall\n");

struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

int pagelift_set_host_disposition(int signal, int disposition) {
    struct kernel_sigaction action = {0};
    switch (disposition) {
    case 0: action.handler = SIG_DFL; break;
    case 1: action.handler = SIG_IGN; break;
    default:
        action.handler = (void *)pagelift_record_signal;
        action.flags = SA_SIGINFO | 0x04000000;  // SA_RESTORER
        action.restorer = pagelift_restore_rt;
    }
    return (int)syscall(SYS_rt_sigaction, signal, &action, NULL, 8);
}

int pagelift_set_host_signal_mask(uint64_t mask) {
    return (int)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
}
