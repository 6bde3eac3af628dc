// link: dynamic
// posix_spawn (clone with CLONE_VM|CLONE_VFORK), system() and popen() of host programs.
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void) {
    fflush(stdout);
    pid_t child;
    char *arguments[] = {"sh", "-c", "echo spawned $0 $1; exit 3", "one", NULL};
    int error = posix_spawn(&child, "/bin/sh", NULL, NULL, arguments, environ);
    int status = 0;
    waitpid(child, &status, 0);
    printf("posix_spawn error %d, exit %d\n", error, WEXITSTATUS(status));
    fflush(stdout);
    status = system("echo from system | tr a-z A-Z");
    printf("system exit %d\n", WEXITSTATUS(status));
    FILE *pipe = popen("printf 'line1\\nline2\\n' | wc -l", "r");
    char line[32] = {0};
    fgets(line, sizeof line, pipe);
    printf("popen read %s", line);
    printf("pclose %d\n", WEXITSTATUS(pclose(pipe)));
    return 0;
}
