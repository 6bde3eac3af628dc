// The host's raw syscall(2), which Swift cannot call directly because it is variadic.
#pragma once
#include <sys/syscall.h>
long pagelift_host_syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5);
