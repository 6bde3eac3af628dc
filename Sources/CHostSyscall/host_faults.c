#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <string.h>
#include "host_syscall.h"

// Where a guest fault leaves translated code to: set while this thread runs translated code.
static _Thread_local sigjmp_buf *landing;
static _Thread_local int fault_signal;
static _Thread_local uintptr_t fault_address;

static uintptr_t guest_start, guest_size;
static void (*report_fatal)(int, siginfo_t *, void *);
static pagelift_replay_function replay_function;

int pagelift_enter_guarded(pagelift_enter_function enter, void *cpu, uint64_t pc, uint64_t code) {
    sigjmp_buf here;
    sigjmp_buf *outer = landing;
    // The mask is not saved (that would be a syscall per entry): the handler runs with
    // SA_NODEFER, so leaving it leaves no signal blocked.
    int left = sigsetjmp(here, 0);
    if (left == 0) {
        landing = &here;
        enter(cpu, pc, code);
    }
    landing = outer;
    return left;
}

// Translated code is JIT memory, which belongs to no loaded object; the runtime's own code
// (a helper translated code called) does, and a fault there is the translator's bug.
static int in_translated_code(void *context) {
    ucontext_t *uc = context;
    void *pc = (void *)uc->uc_mcontext.gregs[REG_RIP];
    Dl_info info;
    return dladdr(pc, &info) == 0;
}

static void host_fault(int signal, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    if (landing && address - guest_start < guest_size && in_translated_code(context)) {
        fault_signal = signal;
        fault_address = address;
        siglongjmp(*landing, 1);
    }
    report_fatal(signal, info, context);
}

void pagelift_install_fault_handler(uintptr_t start, uintptr_t size, void (*fatal)(int, siginfo_t *, void *)) {
    guest_start = start;
    guest_size = size;
    report_fatal = fatal;
    int signals[] = {SIGSEGV, SIGBUS};
    for (int index = 0; index < 2; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = host_fault;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        sigaction(signals[index], &action, NULL);
    }
}

static uint32_t world_stops;

static uint32_t *runs_guest_code(void *cpu) { return (uint32_t *)((char *)cpu + PAGELIFT_CPU_RUNS_GUEST_CODE); }

int pagelift_try_enter_guest_code(void *cpu) {
    __atomic_store_n(runs_guest_code(cpu), 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&world_stops, __ATOMIC_SEQ_CST) == 0) return 1;
    __atomic_store_n(runs_guest_code(cpu), 0, __ATOMIC_SEQ_CST);
    return 0;
}

int pagelift_leave_guest_code(void *cpu) {
    __atomic_store_n(runs_guest_code(cpu), 0, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&world_stops, __ATOMIC_SEQ_CST) != 0;
}

int pagelift_runs_guest_code(void *cpu) { return (int)__atomic_load_n(runs_guest_code(cpu), __ATOMIC_SEQ_CST); }

void pagelift_add_world_stops(int delta) { __atomic_add_fetch(&world_stops, (uint32_t)delta, __ATOMIC_SEQ_CST); }

uint32_t pagelift_world_stops(void) { return __atomic_load_n(&world_stops, __ATOMIC_SEQ_CST); }

void pagelift_last_fault(int *signal, uintptr_t *address) {
    *signal = fault_signal;
    *address = fault_address;
}

void pagelift_set_replay_function(pagelift_replay_function access) { replay_function = access; }

uint64_t pagelift_replay_access(void *cpu, int32_t kind, uint64_t address, int32_t bytes, uint64_t value, uint64_t expected) {
    int32_t stop = 0;
    uint64_t result = replay_function(cpu, kind, address, bytes, value, expected, &stop);
    if (stop && landing) siglongjmp(*landing, 2);
    return result;
}
