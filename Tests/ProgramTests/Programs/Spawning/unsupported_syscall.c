// Makes a syscall no kernel has (244 is the first of the architecture-specific numbers, which RISC-V
// leaves unused), twice: ENOSYS both times, and pagelift says so once.
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    for (int i = 0; i < 2; i++) {
        long result = syscall(244, 1, 2, 3);
        printf("result %ld errno %d\n", result, errno);
    }
    return 0;
}
