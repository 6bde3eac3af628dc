#define _GNU_SOURCE
#include <unistd.h>
#include "host_syscall.h"

long pagelift_host_syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5) {
    return syscall(number, a0, a1, a2, a3, a4, a5);
}
