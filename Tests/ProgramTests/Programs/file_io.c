// File I/O in a temporary directory: create, write, seek, read, stat, list, rename, remove.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    char directory[] = "/tmp/pagelift-test-XXXXXX";
    if (!mkdtemp(directory)) { perror("mkdtemp"); return 1; }
    char path[256];
    snprintf(path, sizeof path, "%s/data.txt", directory);
    FILE *file = fopen(path, "w");
    for (int i = 0; i < 1000; i++) fprintf(file, "line %d\n", i);
    fclose(file);

    struct stat status;
    stat(path, &status);
    printf("size=%lld regular=%d\n", (long long)status.st_size, S_ISREG(status.st_mode));

    int fd = open(path, O_RDONLY);
    lseek(fd, 6 * 10, SEEK_SET);
    char buffer[32] = {0};
    ssize_t n = read(fd, buffer, 14);
    printf("read %zd: %.*s", n, (int)n, buffer);
    struct stat fstatus;
    fstat(fd, &fstatus);
    printf("fstat size=%lld\n", (long long)fstatus.st_size);
    close(fd);

    file = fopen(path, "r");
    char line[64];
    int lines = 0;
    while (fgets(line, sizeof line, file)) lines++;
    fclose(file);
    printf("lines=%d\n", lines);

    char renamed[256];
    snprintf(renamed, sizeof renamed, "%s/renamed.txt", directory);
    rename(path, renamed);
    snprintf(path, sizeof path, "%s/sub", directory);
    mkdir(path, 0755);
    DIR *dir = opendir(directory);
    int entries = 0;
    struct dirent *entry;
    while ((entry = readdir(dir))) if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..")) entries++;
    closedir(dir);
    printf("entries=%d access(missing)=%d\n", entries, access("/nonexistent/file", F_OK));
    unlink(renamed);
    rmdir(path);
    printf("rmdir=%d\n", rmdir(directory));
    char cwd[512];
    printf("getcwd ok=%d\n", getcwd(cwd, sizeof cwd) != NULL);
    return 0;
}
