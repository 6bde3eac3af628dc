// expect-signal
// abort() raises SIGABRT: without a handler the guest dies by it.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("about to abort\n");
    fflush(stdout);
    abort();
}
