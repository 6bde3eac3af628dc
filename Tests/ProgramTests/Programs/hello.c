// args: first "second arg" third
// Arguments, environment and exit status pass through.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv, char **envp) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    const char *value = getenv("PAGELIFT_TEST_VALUE");
    printf("PAGELIFT_TEST_VALUE=%s\n", value ? value : "(unset)");
    int count = 0;
    for (char **e = envp; *e; e++) count++;
    printf("environment has entries: %s\n", count > 0 ? "yes" : "no");
    fprintf(stderr, "to stderr\n");
    return 42;
}
