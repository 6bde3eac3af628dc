// The host's raw syscall(2), which Swift cannot call directly because it is variadic.
#pragma once
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
long pagelift_host_syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5);

// Host signals meant for the guest: a handler that only records them (async-signal-safe), and
// the calls that take what was recorded. Each host thread (one guest thread) records its own,
// and the guest thread delivers them at its next safe point.

// The handler to install (SA_SIGINFO) for a signal the guest handles.
void pagelift_record_signal(int signal, siginfo_t *info, void *context);
// The word of this thread's CPU state translated code polls: bit 0 is set when a signal is
// recorded (and cleared when the recorded signals are taken); the runtime sets others.
void pagelift_set_signal_flag(uint32_t *flag);
void pagelift_set_signal_bits(uint32_t *flag, uint32_t bits);
// A guest's syscall that may block (-1 and errno on failure): on a guest thread, one that a
// recorded signal keeps from starting fails with errno 512 (ERESTARTSYS) instead of blocking
// with the signal waiting; the runtime delivers it and runs the call again after the handler.
long pagelift_host_syscall_interruptible(long number, long a0, long a1, long a2, long a3, long a4, long a5);
// The recorded signals (bit signal-1) since the last call, cleared, with bit 0 of the word.
uint64_t pagelift_take_recorded_signals(void);
// Whether any signal was recorded and not yet taken.
uint64_t pagelift_recorded_signals(void);
// The siginfo recorded last for `signal` (128 bytes), copied to `out`.
void pagelift_recorded_signal_info(int signal, void *out);

// The host disposition of `signal` (0 default, 1 ignore, 2 recorded for the guest), and the
// calling thread's mask (bit signal-1), by the raw syscalls: glibc's wrappers keep 32 and 33.
int pagelift_set_host_disposition(int signal, int disposition);
int pagelift_set_host_signal_mask(uint64_t mask);

// The CPU state of the guest thread this host thread runs, for the fault handler.
void pagelift_set_current_cpu(void *cpu);
void *pagelift_current_cpu(void);

// Guest faults in translated code (see FaultRecovery.swift). Translated code is entered through
// pagelift_enter_guarded; a host SIGSEGV or SIGBUS whose address is guest memory and whose pc is
// translated code (in no loaded object) leaves it at once, and the call returns 1. The guest
// state in the CPU block is then whatever the code had stored: the runtime recovers the exact one.
typedef void (*pagelift_enter_function)(void *cpu, uint64_t pc, uint64_t code);
int pagelift_enter_guarded(pagelift_enter_function enter, void *cpu, uint64_t pc, uint64_t code);
// The host fault handler: recovers a guest fault as above, else calls `fatal` (which reports it).
void pagelift_install_fault_handler(uintptr_t guest_start, uintptr_t guest_size,
                                    void (*fatal)(int signal, siginfo_t *info, void *context));
// The last guest fault this thread left translated code by: signal, host address.
void pagelift_last_fault(int *signal, uintptr_t *address);

// Whether guest threads run translated code, for stopping them while one replays a fault: a
// word in each CPU state at this offset (`CPULayout.runsGuestCode`) and the number of stops
// under way. A thread sets its word and then looks for stops; a stopper counts its stop and
// then looks at the words: one of the two sees the other (both sequentially consistent).
#define PAGELIFT_CPU_RUNS_GUEST_CODE 596
// Sets the word unless a stop is under way (then returns 0 with the word clear).
int pagelift_try_enter_guest_code(void *cpu);
// Clears the word; returns whether a stop is under way (its stopper may wait for this thread).
int pagelift_leave_guest_code(void *cpu);
int pagelift_runs_guest_code(void *cpu);
// Under the engine's lock, which waiters for the count to fall to 0 wait on.
void pagelift_add_world_stops(int delta);
uint32_t pagelift_world_stops(void);
// The access function of replayed code (RuntimeSymbols.replayAccess): asks `access`, which
// returns nonzero in *stop when the replay must end (the fault is found, or it went astray):
// then it leaves the replayed code, and pagelift_enter_guarded returns 2.
typedef uint64_t (*pagelift_replay_function)(void *cpu, int32_t kind, uint64_t address, int32_t bytes,
                                              uint64_t value, uint64_t expected, int32_t *stop);
void pagelift_set_replay_function(pagelift_replay_function access);
uint64_t pagelift_replay_access(void *cpu, int32_t kind, uint64_t address, int32_t bytes, uint64_t value, uint64_t expected);
