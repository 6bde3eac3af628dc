// link: dynamic
// poll, ppoll, select, pselect and epoll (whose event struct is packed on x86-64 only) over pipes, and eventfd.
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    int a[2], b[2];
    pipe(a); pipe(b);
    write(b[1], "x", 1);
    struct pollfd fds[2] = {{.fd = a[0], .events = POLLIN}, {.fd = b[0], .events = POLLIN}};
    int ready = poll(fds, 2, 100);
    printf("poll: %d, a %d, b %d\n", ready, fds[0].revents, fds[1].revents);
    struct timespec zero = {0, 0};
    ready = ppoll(fds, 2, &zero, NULL);
    printf("ppoll: %d\n", ready);
    fd_set set;
    FD_ZERO(&set); FD_SET(a[0], &set); FD_SET(b[0], &set);
    struct timeval tv = {0, 1000};
    ready = select(b[0] + 1, &set, NULL, NULL, &tv);
    printf("select: %d, a %d, b %d\n", ready, FD_ISSET(a[0], &set) != 0, FD_ISSET(b[0], &set) != 0);
    sigset_t mask;
    sigemptyset(&mask);
    FD_ZERO(&set); FD_SET(b[0], &set);
    ready = pselect(b[0] + 1, &set, NULL, NULL, &zero, &mask);
    printf("pselect: %d\n", ready);

    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
    epoll_ctl(epoll, EPOLL_CTL_ADD, b[0], &event);
    event.data.u64 = 0xa0a0a0a0b0b0b0b0ULL;
    epoll_ctl(epoll, EPOLL_CTL_ADD, a[0], &event);
    int counter = eventfd(3, EFD_NONBLOCK);
    event.data.u64 = 42;
    event.events = EPOLLIN | EPOLLET;
    epoll_ctl(epoll, EPOLL_CTL_ADD, counter, &event);
    struct epoll_event events[4];
    memset(events, 0xff, sizeof events);
    ready = epoll_wait(epoll, events, 4, 100);
    printf("epoll_wait: %d\n", ready);
    unsigned long long seen = 0;
    for (int i = 0; i < ready; i++) seen ^= events[i].data.u64 + events[i].events;
    printf("events digest %llx\n", seen);
    uint64_t value = 0;
    printf("eventfd read %zd value %llu\n", read(counter, &value, 8), (unsigned long long)value);
    int timer = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec due = {.it_value = {0, 2000000}};
    timerfd_settime(timer, 0, &due, NULL);
    uint64_t expirations = 0;
    read(timer, &expirations, 8);
    printf("timer expired %llu time(s)\n", (unsigned long long)expirations);
    return 0;
}
