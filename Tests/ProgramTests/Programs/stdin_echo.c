// stdin: hello from stdin\nsecond line\n
// Reads standard input to the end and reports what it saw.
#include <stdio.h>
#include <string.h>

int main(void) {
    char line[256];
    int count = 0;
    size_t bytes = 0;
    while (fgets(line, sizeof line, stdin)) { count++; bytes += strlen(line); printf("got: %s", line); }
    printf("lines=%d bytes=%zu\n", count, bytes);
    return count;
}
