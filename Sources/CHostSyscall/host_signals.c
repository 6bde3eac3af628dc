#define _GNU_SOURCE
#include <errno.h>
#include <ucontext.h>
#include <unistd.h>
#include <string.h>
#include "host_syscall.h"

// The host syscall for a guest's call that may block, closing the window between the runtime's
// last look at the recorded signals and the call blocking (qemu's safe_syscall does the same):
// it tests the thread's signal word right before the syscall instruction, and a signal recorded
// while the thread is between that test and the instruction moves it to `interrupted` (see
// pagelift_record_signal), so the call either starts with no signal waiting or does not start.
// long safe(volatile uint32_t *flag, long number, long a0, long a1, long a2, long a3, long a4, long a5)
extern long pagelift_safe_syscall(volatile uint32_t *flag, long number, long a0, long a1, long a2, long a3, long a4, long a5);
extern char pagelift_safe_syscall_start[], pagelift_safe_syscall_end[], pagelift_safe_syscall_interrupted[];
__asm__(".text\n"
        ".globl pagelift_safe_syscall\n"
        ".type pagelift_safe_syscall, @function\n"
        "pagelift_safe_syscall:\n"
        "    mov %rdi, %r11\n"          // the flag
        "    mov %rsi, %rax\n"          // the number
        "    mov %rdx, %rdi\n"
        "    mov %rcx, %rsi\n"
        "    mov %r8, %rdx\n"
        "    mov %r9, %r10\n"
        "    mov 8(%rsp), %r8\n"
        "    mov 16(%rsp), %r9\n"
        ".globl pagelift_safe_syscall_start\n"
        "pagelift_safe_syscall_start:\n"
        "    testl $1, (%r11)\n"
        "    jnz pagelift_safe_syscall_interrupted\n"
        "    syscall\n"
        ".globl pagelift_safe_syscall_end\n"
        "pagelift_safe_syscall_end:\n"
        "    ret\n"
        ".globl pagelift_safe_syscall_interrupted\n"
        "pagelift_safe_syscall_interrupted:\n"
        "    mov $-512, %rax\n"         // ERESTARTSYS: the call did not start
        "    ret\n");

// Per host thread, which is one guest thread: the kernel picks the thread a process-directed
// signal goes to by the threads' masks (each the guest thread's), so each records its own.
static _Thread_local uint64_t recorded;
static _Thread_local siginfo_t infos[65];
static _Thread_local volatile uint32_t *pending_flag;

void pagelift_record_signal(int signal, siginfo_t *info, void *context) {
    if (signal < 1 || signal > 64) return;
    if (info) memcpy(&infos[signal], info, sizeof infos[signal]);
    __atomic_fetch_or(&recorded, (uint64_t)1 << (signal - 1), __ATOMIC_SEQ_CST);
    if (pending_flag) __atomic_fetch_or(pending_flag, 1, __ATOMIC_SEQ_CST);
    ucontext_t *uc = context;
    char *pc = (char *)uc->uc_mcontext.gregs[REG_RIP];
    if (pc >= pagelift_safe_syscall_start && pc < pagelift_safe_syscall_end)
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)pagelift_safe_syscall_interrupted;
}

long pagelift_host_syscall_interruptible(long number, long a0, long a1, long a2, long a3, long a4, long a5) {
    if (!pending_flag) return syscall(number, a0, a1, a2, a3, a4, a5);
    long result = pagelift_safe_syscall(pending_flag, number, a0, a1, a2, a3, a4, a5);
    if (result < 0 && result > -4096) {
        errno = (int)-result;
        return -1;
    }
    return result;
}

void pagelift_set_signal_bits(uint32_t *flag, uint32_t bits) { __atomic_fetch_or(flag, bits, __ATOMIC_SEQ_CST); }

void pagelift_set_signal_flag(uint32_t *flag) { pending_flag = flag; }

uint64_t pagelift_take_recorded_signals(void) {
    // The word first: a signal recorded after the exchange sets it again.
    if (pending_flag) __atomic_fetch_and(pending_flag, ~1u, __ATOMIC_SEQ_CST);
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
