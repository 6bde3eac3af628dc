// Prints what -E, -U and -0 (argv[0]) did to the guest's environment and arguments.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *names[] = {"PAGELIFT_SET", "PAGELIFT_UNSET", "PAGELIFT_KEPT"};
    printf("argv0 %s argc %d\n", argv[0], argc);
    for (int i = 0; i < 3; i++) printf("%s=%s\n", names[i], getenv(names[i]) ? getenv(names[i]) : "(unset)");
    return 0;
}
