// Asynchronous signals reach code that makes no syscalls: an interval timer interrupting a hot
// loop (its handler sets a flag, or siglongjmps out), a signal sent to a spinning thread with
// pthread_kill, timer_create with SIGEV_SIGNAL and SIGEV_THREAD_ID, sigqueue's value, and signalfd.
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t fired;
static sigjmp_buf escape;
static atomic_int received, ready;
static atomic_long handlerThread;
static volatile int queuedValue;

// Spins until *flag is set, without syscalls but for a clock read every 2^22 rounds: a signal
// that never comes ends the wait after 10 s with a wrong answer rather than a hang.
static int spinUntil(atomic_int *flag) {
    time_t deadline = time(0) + 10;
    for (unsigned long n = 1; atomic_load(flag) == 0; n++)
        if (n % (1UL << 22) == 0 && time(0) > deadline) return 0;
    return 1;
}

static void setFlag(int signal) { fired = signal; }
static void jumpOut(int signal) { siglongjmp(escape, signal); }
static void noteThread(int signal) { atomic_store(&handlerThread, syscall(SYS_gettid)); atomic_fetch_add(&received, 1); }
static void noteValue(int signal, siginfo_t *info, void *context) { queuedValue = info->si_value.sival_int; fired = signal; }

static void handle(int signal, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigaction(signal, &action, 0);
}

static void *spin(void *argument) {
    atomic_store(&ready, 1);
    spinUntil(&received);
    return 0;
}

static long hotLoop(void) {
    long n = 0;
    time_t deadline = time(0) + 10;
    // At least one round: on a loaded machine the timer may fire before the loop starts.
    unsigned long rounds = 0;
    do {
        n += n % 3 + 1;
        if (++rounds % (1UL << 24) == 0 && time(0) > deadline) break;
    } while (!fired);
    return n;
}

int main(void) {
    // Whatever the starting process had blocked (a test runner's thread blocks many), from none.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    handle(SIGALRM, setFlag);
    struct itimerval interval = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &interval, 0);
    printf("setitimer interrupted the hot loop: %d\n", hotLoop() > 0 && fired == SIGALRM);

    handle(SIGALRM, jumpOut);
    fired = 0;
    int jumped = sigsetjmp(escape, 1);
    if (jumped == 0) {
        alarm(1);
        for (volatile unsigned long n = 0;; n++) {}
    }
    printf("siglongjmp out of a loop without syscalls: %d\n", jumped);

    // Process-directed timers before any thread exists: qemu-user, the oracle, may lose one once
    // the process has had threads.
    timer_t timer;
    struct sigevent event;
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGALRM;
    handle(SIGALRM, setFlag);
    fired = 0;
    timer_create(CLOCK_MONOTONIC, &event, &timer);
    struct itimerspec soon = {{0, 0}, {0, 10000000}};
    timer_settime(timer, 0, &soon, 0);
    printf("timer_create SIGEV_SIGNAL: %d\n", hotLoop() > 0 && fired == SIGALRM);
    timer_delete(timer);

    handle(SIGUSR1, noteThread);
    pthread_t thread;
    pthread_create(&thread, 0, spin, 0);
    spinUntil(&ready);
    pthread_kill(thread, SIGUSR1);
    pthread_join(thread, 0);
    printf("pthread_kill reached the spinning thread: %d\n", atomic_load(&received));

    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGUSR1;
    event._sigev_un._tid = syscall(SYS_gettid);
    atomic_store(&received, 0);
    atomic_store(&handlerThread, 0);
    timer_create(CLOCK_MONOTONIC, &event, &timer);
    timer_settime(timer, 0, &soon, 0);
    spinUntil(&received);
    printf("timer_create SIGEV_THREAD_ID: to this thread %d\n", atomic_load(&handlerThread) == syscall(SYS_gettid));
    timer_delete(timer);

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = noteValue;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 2, &action, 0);
    fired = 0;
    sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 1234});
    printf("sigqueue value: %d\n", queuedValue);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, 0);
    int descriptor = signalfd(-1, &set, 0);
    raise(SIGUSR1);
    struct signalfd_siginfo info;
    ssize_t got = read(descriptor, &info, sizeof info);
    printf("signalfd: %zd bytes, signal %u\n", got, info.ssi_signo);
    return 0;
}
