// expect-signal
// cflags: -pthread
// Synchronous faults reach the guest's handlers with the state at the faulting instruction:
// stores to protected pages fixed and made again, loads skipped with a register set through
// the ucontext, faults in hot (optimized) loops, illegal instructions, ebreak, calls to no code,
// stack overflow on an alternate stack, a fault in another thread, SIGBUS beyond a file's end,
// a fault after buffered output (whose code reads and rewrites the stream's state since the last
// syscall); the last one is unhandled.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile char *page;
static volatile int faults;

static void report(const char *what, int signal, siginfo_t *info) {
    printf("%s: signal %d code %d", what, signal, info->si_code);
    uintptr_t address = (uintptr_t)info->si_addr;
    if (page && address - (uintptr_t)page < 8192) printf(" at page+%lu\n", (unsigned long)(address - (uintptr_t)page));
    else printf(" at %#lx\n", (unsigned long)address);
}

// Makes the page writable and returns: the store runs again and succeeds.
static void unprotect(int signal, siginfo_t *info, void *context) {
    (void)context;
    faults++;
    report("unprotect", signal, info);
    mprotect((void *)page, 4096, PROT_READ | PROT_WRITE);
}

// Skips the faulting instruction, giving its destination a value.
static void skip(int signal, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    report("skip", signal, info);
    uc->uc_mcontext.__gregs[REG_PC] += 4;
    uc->uc_mcontext.__gregs[10] = 42;  // a0
}

static void jump_back(int signal, siginfo_t *info, void *context) {
    (void)context;
    report("jump back", signal, info);
    siglongjmp(back, 1);
}

static void on(int signal, void (*handler)(int, siginfo_t *, void *), int flags) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | flags;
    sigaction(signal, &action, NULL);
}

static long sum_until_fault(volatile long *values, long count) {
    long sum = 0;
    for (long i = 0; i < count; i++) sum += values[i];
    return sum;
}

static void overflowed(int signal, siginfo_t *info, void *context) {
    (void)info; (void)context;
    printf("stack overflow: signal %d\n", signal);
    siglongjmp(back, 1);
}

static volatile long counter;

// A counter incremented (read, then written) between the last syscall and the fault.
__attribute__((noinline)) static void count_then_store(long n) {
    for (long i = 0; i < n; i++) counter++;
    page[10] = (char)counter;
}

static __thread sigjmp_buf thread_back;

static void thread_jump_back(int signal, siginfo_t *info, void *context) {
    (void)context;
    printf("thread: signal %d code %d at %#lx\n", signal, info->si_code, (unsigned long)(uintptr_t)info->si_addr);
    siglongjmp(thread_back, 1);
}

static void *faulting_thread(void *argument) {
    (void)argument;
    if (sigsetjmp(thread_back, 1) == 0) *(volatile long *)0x30 = 1;
    printf("thread goes on\n");
    return NULL;
}

struct item {
    long value;
    struct item *next;
};

static long printed;

// Formats each item into a buffered stream until the nil at the list's end.
__attribute__((noinline)) static void print_until_fault(FILE *out, struct item *item) {
    for (;;) {
        printed += fprintf(out, "item %ld\n", item->value);
        item = item->next;
    }
}

// Says where in print_until_fault the fault was, and what had been printed.
static void print_fault(int signal, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    printf("print: signal %d at %#lx, pc at print_until_fault+%ld, printed %ld\n", signal, (unsigned long)(uintptr_t)info->si_addr,
           (long)(uc->uc_mcontext.__gregs[REG_PC] - (uintptr_t)print_until_fault), printed);
    siglongjmp(back, 1);
}

static int depth(int n) {
    volatile char frame[256];
    frame[0] = (char)n;
    return depth(n + 1) + frame[0];
}

int main(void) {
    // Whatever the starting process had blocked (a test runner's thread blocks many), from none:
    // a fault whose signal is blocked kills.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    setvbuf(stdout, NULL, _IONBF, 0);
    page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    // A store to a read-only page: the handler fixes the protection and the store is made.
    on(SIGSEGV, unprotect, 0);
    mprotect((void *)page, 4096, PROT_READ);
    page[100] = 7;
    printf("after unprotect: %d (faults %d)\n", page[100], faults);

    // The same after a loop that read and wrote memory since the last syscall.
    mprotect((void *)page, 4096, PROT_READ);
    count_then_store(100000);
    printf("after counting: counter %ld, page %d (faults %d)\n", counter, page[10], faults);

    // A load from an unmapped address, skipped by the handler with a0 = 42.
    on(SIGSEGV, skip, 0);
    long loaded;
    __asm__ volatile("li a0, 1\n\tli a1, 0x18\n\t.4byte 0x0005b503\n\tmv %0, a0" : "=r"(loaded) : : "a0", "a1", "memory");  // ld a0, 0(a1)
    printf("after skip: %ld\n", loaded);
    // A load into x0 (a probe, as Go's nil checks) faults as well.
    __asm__ volatile("li a0, 1\n\tli a1, 0x28\n\t.4byte 0x0005b003\n\tmv %0, a0" : "=r"(loaded) : : "a0", "a1", "memory");  // ld zero, 0(a1)
    printf("after probe: %ld\n", loaded);

    // A load beyond the end of readable memory in a hot loop, left by siglongjmp.
    on(SIGSEGV, jump_back, 0);
    mprotect((void *)(page + 4096), 4096, PROT_NONE);
    long total = 0;
    for (int round = 0; round < 2000; round++) total += sum_until_fault((volatile long *)page, 512);
    printf("warm: %ld\n", total);
    if (sigsetjmp(back, 1) == 0) {
        total = sum_until_fault((volatile long *)page, 100000);
        printf("not reached %ld\n", total);
    }

    // An illegal instruction and an ebreak, skipped.
    on(SIGILL, skip, 0);
    __asm__ volatile("li a0, 1\n\t.4byte 0xc0001073\n\tmv %0, a0" : "=r"(loaded) : : "a0");  // csrrw zero, cycle, zero
    printf("after illegal: %ld\n", loaded);
    on(SIGTRAP, skip, 0);
    __asm__ volatile("li a0, 1\n\t.4byte 0x00100073\n\tmv %0, a0" : "=r"(loaded) : : "a0");  // ebreak
    printf("after ebreak: %ld\n", loaded);

    // A call to an address with no code.
    on(SIGSEGV, jump_back, 0);
    if (sigsetjmp(back, 1) == 0) {
        void (*nowhere)(void) = (void (*)(void))0x1000;
        nowhere();
    }

    // A fault in another thread goes to that thread.
    on(SIGSEGV, thread_jump_back, 0);
    pthread_t thread;
    pthread_create(&thread, NULL, faulting_thread, NULL);
    pthread_join(thread, NULL);

    // Stack overflow, handled on an alternate stack.
    static char alternate[65536];
    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate};
    sigaltstack(&stack, NULL);
    on(SIGSEGV, overflowed, SA_ONSTACK);
    page = NULL;
    if (sigsetjmp(back, 1) == 0) printf("%d\n", depth(0));
    printf("after overflow\n");

    // A page of a file mapping beyond the file's end: SIGBUS.
    on(SIGBUS, jump_back, 0);
    char name[] = "/tmp/signals_faultsXXXXXX";
    int fd = mkstemp(name);
    unlink(name);
    if (fd < 0 || write(fd, "hello", 5) != 5) return 1;
    page = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    printf("file page: %c\n", page[0]);
    if (sigsetjmp(back, 1) == 0) printf("not reached %d\n", page[4096 + 8]);

    // Formatted output into a full buffer (no syscall in between) until a nil pointer.
    on(SIGSEGV, print_fault, 0);
    FILE *out = fopen("/dev/null", "w");
    static char buffer[1 << 16];
    setvbuf(out, buffer, _IOFBF, sizeof buffer);
    struct item *list = NULL;
    for (long i = 1; i <= 50; i++) {
        struct item *item = malloc(sizeof *item);
        *item = (struct item){.value = i * 1000, .next = list};
        list = item;
    }
    for (int round = 0; round < 3; round++) {
        if (sigsetjmp(back, 1) == 0) print_until_fault(out, list);
    }
    fclose(out);

    // Unhandled: the default action.
    signal(SIGSEGV, SIG_DFL);
    *(volatile int *)0x20 = 1;
    return 0;
}
