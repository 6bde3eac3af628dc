// Signal handlers in riscv64 frames: raise with SA_SIGINFO, blocked and pending signals, SA_RESTART versus
// EINTR on a blocking read, alarm and pause, sigsuspend woken by another process, sigwait, siglongjmp out
// of a handler, a handler that changes the pc it returns to, sigaltstack, SA_RESETHAND, SIGCHLD.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static volatile sig_atomic_t count, last_code, last_signal, on_alternate;
static int channel[2];
static sigjmp_buf escape;
static jmp_buf landing_back;
static char alternate[65536];

static void counting(int signal, siginfo_t *info, void *context) {
    (void)context;
    count++;
    last_signal = signal;
    last_code = info->si_code;
    char here;
    on_alternate = &here >= alternate && &here < alternate + sizeof alternate;
}

static void feed_pipe(int signal) { (void)signal; count++; write(channel[1], "x", 1); }
static void jump_out(int signal) { (void)signal; siglongjmp(escape, 7); }
static void landing(void) { printf("landed after the handler moved the pc\n"); longjmp(landing_back, 1); }
static void move_pc(int signal, siginfo_t *info, void *context) {
    (void)signal; (void)info;
    ((ucontext_t *)context)->uc_mcontext.__gregs[REG_PC] = (unsigned long)landing;
}

static void install(int signal, void (*action)(int, siginfo_t *, void *), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = action;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(signal, &sa, NULL);
}

static void install_simple(int signal, void (*handler)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigaction(signal, &sa, NULL);
}

// Long enough for the code up to the blocking call to be translated first, even when every region is
// compiled optimized: a timer that fires before the call is made leaves it waiting (as under the kernel).
static void arm_timer(long microseconds) {
    struct itimerval timer = {.it_value = {0, microseconds}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

int main(void) {
    // Whatever mask the program inherited (a test harness may block signals), it starts from none.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    install(SIGUSR1, counting, 0);
    raise(SIGUSR1);
    printf("raise: count %d signal %d code SI_TKILL %d\n", count, last_signal, last_code == SI_TKILL);
    kill(getpid(), SIGUSR1);
    printf("kill: count %d code SI_USER %d\n", count, last_code == SI_USER);

    sigset_t block, pending, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR1);
    sigpending(&pending);
    printf("blocked: count %d pending %d\n", count, sigismember(&pending, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: count %d\n", count);

    pipe(channel);
    char byte = 0;
    install_simple(SIGALRM, feed_pipe, 0);
    arm_timer(200000);
    ssize_t got = read(channel[0], &byte, 1);
    printf("read without SA_RESTART: %zd %s\n", got, got < 0 ? strerror(errno) : "data");
    read(channel[0], &byte, 1);
    install_simple(SIGALRM, feed_pipe, SA_RESTART);
    arm_timer(200000);
    got = read(channel[0], &byte, 1);
    printf("read with SA_RESTART: %zd %c\n", got, byte);

    install_simple(SIGALRM, feed_pipe, 0);
    arm_timer(200000);
    int paused = pause();
    printf("pause: %d %s\n", paused, strerror(errno));
    read(channel[0], &byte, 1);

    sigprocmask(SIG_BLOCK, &block, &old);
    int before = count;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) { usleep(20000); kill(getppid(), SIGUSR1); _exit(0); }
    sigset_t empty;
    sigemptyset(&empty);
    int suspended = sigsuspend(&empty);
    sigprocmask(SIG_BLOCK, NULL, &pending);
    printf("sigsuspend: %d %s, handled %d, still blocked %d\n", suspended, strerror(errno), count - before, sigismember(&pending, SIGUSR1));
    waitpid(child, NULL, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);

    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGUSR2);
    sigprocmask(SIG_BLOCK, &wanted, NULL);
    raise(SIGUSR2);
    int which = 0;
    sigwait(&wanted, &which);
    printf("sigwait: %d\n", which);
    sigprocmask(SIG_UNBLOCK, &wanted, NULL);

    install_simple(SIGUSR2, jump_out, 0);
    int jumped = sigsetjmp(escape, 1);
    if (jumped == 0) { raise(SIGUSR2); printf("not reached\n"); }
    sigprocmask(SIG_BLOCK, NULL, &pending);
    printf("siglongjmp: %d, mask restored %d\n", jumped, !sigismember(&pending, SIGUSR2));

    install(SIGUSR2, move_pc, 0);
    if (setjmp(landing_back) == 0) { raise(SIGUSR2); printf("not reached either\n"); }

    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate};
    sigaltstack(&stack, NULL);
    install(SIGUSR1, counting, SA_ONSTACK);
    raise(SIGUSR1);
    printf("sigaltstack: handler on the alternate stack %d\n", on_alternate);
    install(SIGUSR1, counting, 0);
    raise(SIGUSR1);
    printf("without SA_ONSTACK: %d\n", on_alternate);

    install(SIGWINCH, counting, SA_RESETHAND);
    before = count;
    raise(SIGWINCH);
    raise(SIGWINCH);
    printf("SA_RESETHAND: handled %d\n", count - before);

    install(SIGCHLD, counting, 0);
    before = count;
    fflush(stdout);
    child = fork();
    if (child == 0) _exit(3);
    while (count == before) usleep(1000);
    int status;
    waitpid(child, &status, 0);
    printf("SIGCHLD: %d code CLD_EXITED %d status %d\n", last_signal, last_code == CLD_EXITED, WEXITSTATUS(status));
    return 0;
}
