// link: dynamic
// fork, pipes between parent and children, wait4/waitpid/waitid, exit statuses and a child killed by a signal.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int channel[2];
    if (pipe(channel) != 0) { perror("pipe"); return 1; }
    fflush(stdout);
    pid_t writer = fork();
    if (writer == 0) {
        close(channel[0]);
        const char *text = "message from the child";
        write(channel[1], text, strlen(text));
        _exit(23);
    }
    close(channel[1]);
    char buffer[64] = {0};
    ssize_t total = 0, count;
    while ((count = read(channel[0], buffer + total, sizeof buffer - 1 - total)) > 0) total += count;
    printf("read %zd bytes: %s\n", total, buffer);
    int status = 0;
    struct rusage usage;
    pid_t waited = wait4(writer, &status, 0, &usage);
    printf("wait4 same pid: %d, exited: %d, status: %d\n", waited == writer, WIFEXITED(status), WEXITSTATUS(status));

    pid_t victim = fork();
    if (victim == 0) { raise(SIGUSR1); _exit(0); }
    waitpid(victim, &status, 0);
    printf("signaled: %d, signal: %d\n", WIFSIGNALED(status), WTERMSIG(status));

    pid_t quick = fork();
    if (quick == 0) _exit(5);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    waitid(P_PID, quick, &info, WEXITED);
    printf("waitid: code %d, status %d, same pid %d\n", info.si_code, info.si_status, info.si_pid == quick);

    // Several children at once, reaped in any order.
    int sum = 0;
    for (int i = 1; i <= 4; i++) if (fork() == 0) _exit(i * 10);
    for (int i = 0; i < 4; i++) { wait(&status); sum += WEXITSTATUS(status); }
    printf("sum of statuses %d, no more children: %d\n", sum, wait(&status) == -1);
    printf("pgid is pid: %d, sid set: %d\n", getpgid(0) > 0, getsid(0) > 0);
    return 0;
}
