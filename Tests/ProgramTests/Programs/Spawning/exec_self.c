// link: dynamic
// Starts itself again, as make, gcc and uv start riscv64 children: by execv of /proc/self/exe after
// fork, by posix_spawn, through a #! script naming it as interpreter, and through execveat.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int finish(pid_t child) {
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("child: argv0=%s", argv[0]);
        for (int i = 2; i < argc; i++) printf(" [%s]", argv[i]);
        printf(" env=%s\n", getenv("EXEC_SELF") ? getenv("EXEC_SELF") : "(unset)");
        return 40 + argc;
    }
    if (argc > 2 && strcmp(argv[1], "interpreter-arg") == 0) {
        // Run as a #! interpreter: argv is interpreter, its argument, the script, the script's arguments.
        printf("interpreter: script %s, arguments", strrchr(argv[2], '/') + 1);
        for (int i = 3; i < argc; i++) printf(" [%s]", argv[i]);
        printf("\n");
        return 3;
    }
    char self[4096] = {0};
    readlink("/proc/self/exe", self, sizeof self - 1);
    setenv("EXEC_SELF", "inherited", 1);
    fflush(stdout);

    pid_t child = fork();
    if (child == 0) {
        char *arguments[] = {"renamed-child", "child", "one", "two words", NULL};
        execv("/proc/self/exe", arguments);
        _exit(127);
    }
    printf("fork+execv exit %d\n", finish(child));
    fflush(stdout);

    char *spawned[] = {"spawned", "child", "three", NULL};
    int error = posix_spawn(&child, self, NULL, NULL, spawned, environ);
    printf("posix_spawn error %d exit %d\n", error, finish(child));
    fflush(stdout);

    char script[] = "/tmp/pagelift-script-XXXXXX";
    int fd = mkstemp(script);
    dprintf(fd, "#!%s interpreter-arg\nthis line is the script's body\n", self);
    fchmod(fd, 0755);
    close(fd);
    child = fork();
    if (child == 0) {
        char *arguments[] = {"script-name", "first", "second", NULL};
        execv(script, arguments);
        _exit(127);
    }
    printf("script exit %d\n", finish(child));
    unlink(script);
    fflush(stdout);

    child = fork();
    if (child == 0) {
        // fexecve's way: the program by a descriptor, closed on exec.
        int program = open(self, O_RDONLY | O_CLOEXEC);
        char *arguments[] = {"at", "child", "execveat", NULL};
        syscall(SYS_execveat, program, "", arguments, environ, AT_EMPTY_PATH);
        _exit(127);
    }
    printf("execveat exit %d\n", finish(child));

    char *missing[] = {"missing", NULL};
    printf("missing program: %d %s\n", execv("/nonexistent/program", missing), strerror(errno));
    printf("not executable: %d %s\n", execv("/proc/self/maps", missing), strerror(errno));
    return 0;
}
