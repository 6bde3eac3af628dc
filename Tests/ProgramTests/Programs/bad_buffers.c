// Buffers the guest does not have: unmapped, past the end of a 2^38-byte address space, and ones that start
// mapped and run off its end. Every call fails with EFAULT (and the translator's own memory stays untouched).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long result) { printf("%s: %ld %s\n", what, result, result < 0 ? strerror(errno) : "ok"); }

int main(void) {
    int channel[2];
    pipe(channel);
    write(channel[1], "some bytes for the reads", 24);
    char *near_end = (char *)((1UL << 38) - 4096);
    char *beyond = (char *)(1UL << 44);
    show("read into unmapped", read(channel[0], (void *)0x1000, 4));
    show("read running off the end", read(channel[0], near_end, 1 << 20));
    show("read beyond", read(channel[0], beyond, 4));
    show("write from beyond", write(channel[1], beyond, 4));
    show("getrandom running off the end", getrandom(near_end, 1 << 20, 0));
    struct iovec vector = {.iov_base = near_end, .iov_len = 1 << 20};
    show("readv running off the end", readv(channel[0], &vector, 1));
    // The last page of the address space, mapped: a read may start there but not run off the end.
    char *last = mmap(near_end, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mapped the last page: %d\n", last == near_end);
    show("read from the last page off the end", read(channel[0], near_end, 1 << 20));
    show("read inside the last page", read(channel[0], near_end + 4000, 4));
    char fine[8] = {0};
    show("read that works", read(channel[0], fine, 4));
    printf("read %s\n", fine);
    return 0;
}
