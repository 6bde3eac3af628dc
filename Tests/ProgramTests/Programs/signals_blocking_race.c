// cflags: -pthread
// A signal sent to a thread that is blocking in read() runs its handler at once, however close
// to the start of the call it comes (the call fails with EINTR, or blocks after the handler):
// a signal recorded between the runtime's last look and the host call must not wait for the
// call to end. One that waited shows as a delayed handler (freed by a byte after three seconds).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static atomic_int handled, stop;
static void on_signal(int signal) { (void)signal; atomic_fetch_add(&handled, 1); }

static void *reader(void *argument) {
    (void)argument;
    char byte;
    while (!atomic_load(&stop)) (void)read(fds[0], &byte, 1);
    return NULL;
}

int main(void) {
    // Whatever the starting process had blocked (a test runner's thread blocks many), from none.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGUSR1, &action, NULL);
    if (pipe(fds) != 0) return 1;
    pthread_t thread;
    pthread_create(&thread, NULL, reader, NULL);
    int delayed = 0;
    for (int round = 0; round < 30000; round++) {
        int before = atomic_load(&handled);
        pthread_kill(thread, SIGUSR1);
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (atomic_load(&handled) == before) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) >= 3000000000L) {
                delayed++;
                if (write(fds[1], "x", 1) != 1) return 1;   // frees a reader that missed it
                break;
            }
        }
    }
    atomic_store(&stop, 1);
    pthread_kill(thread, SIGUSR1);
    if (write(fds[1], "x", 1) != 1) return 1;
    pthread_join(thread, NULL);
    printf("30000 signals, handlers delayed by a blocking read: %d\n", delayed);
    return 0;
}
