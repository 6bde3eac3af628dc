// link: dynamic
// The long tail of file calls: directories, links, locks, vectored and positioned I/O, copies between
// descriptors, memfd, mremap through realloc, statfs, and the process's limits and usage.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
    char directory[] = "/tmp/pagelift-files-XXXXXX";
    if (!mkdtemp(directory)) { perror("mkdtemp"); return 1; }
    chdir(directory);
    int fd = open("data", O_CREAT | O_RDWR | O_TRUNC, 0644);
    struct iovec parts[2] = {{"hello ", 6}, {"vectors\n", 8}};
    printf("writev %zd\n", writev(fd, parts, 2));
    printf("pwrite %zd\n", pwrite(fd, "HELLO", 5, 0));
    char first[8] = {0}, second[16] = {0};
    struct iovec back[2] = {{first, 5}, {second, 9}};
    printf("preadv %zd: %s|%s", preadv(fd, back, 2, 0), first, second);
    printf("flock %d, again %d\n", flock(fd, LOCK_EX), flock(fd, LOCK_UN));
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    printf("fcntl lock %d, getfl rdwr %d\n", fcntl(fd, F_SETLK, &lock), (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    printf("ftruncate %d, fallocate %d\n", ftruncate(fd, 100), fallocate(fd, 0, 0, 200));
    struct stat status;
    fstat(fd, &status);
    printf("size %lld, regular %d, mode %o\n", (long long)status.st_size, S_ISREG(status.st_mode), status.st_mode & 0777);
    int copy = open("copy", O_CREAT | O_WRONLY, 0600);
    off_t offset = 0;
    printf("sendfile %zd\n", sendfile(copy, fd, &offset, 14));
    loff_t in = 0;
    printf("copy_file_range %zd\n", copy_file_range(fd, &in, copy, NULL, 5, 0));
    close(copy);
    printf("symlink %d, link %d, rename %d\n", symlink("data", "alias"), link("copy", "hard"), rename("hard", "moved"));
    char target[32] = {0};
    printf("readlink %zd %s\n", readlink("alias", target, sizeof target), target);
    printf("lstat link %d\n", lstat("alias", &status) == 0 && S_ISLNK(status.st_mode));
    struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
    utimensat(AT_FDCWD, "data", times, 0);
    stat("data", &status);
    printf("mtime %lld, chmod %d\n", (long long)status.st_mtim.tv_sec, chmod("data", 0600));
    mkdir("sub", 0755);
    DIR *listing = opendir(".");
    int entries = 0;
    for (struct dirent *entry; (entry = readdir(listing));) entries += entry->d_name[0] != '.';
    closedir(listing);
    printf("entries %d, access %d, missing %d\n", entries, access("data", R_OK), access("nothing", F_OK) == -1 && errno == ENOENT);
    struct statfs filesystem;
    printf("statfs %d, block size positive %d\n", statfs(".", &filesystem), filesystem.f_bsize > 0);
    int memory = memfd_create("scratch", MFD_CLOEXEC);
    write(memory, "in memory", 9);
    char back2[16] = {0};
    pread(memory, back2, 9, 0);
    printf("memfd %s\n", back2);
    // realloc of large blocks moves them with mremap.
    char *block = malloc(1 << 20);
    memset(block, 7, 1 << 20);
    block = realloc(block, 16 << 20);
    block[(16 << 20) - 1] = 9;
    printf("realloc keeps %d %d\n", block[12345], block[(16 << 20) - 1]);
    char *mapped = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(mapped, "moved");
    char *grown = mremap(mapped, 8192, 1 << 20, MREMAP_MAYMOVE);
    printf("mremap %s\n", grown != MAP_FAILED ? grown : "failed");
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    struct rusage usage;
    printf("nofile positive %d, rusage %d\n", limit.rlim_cur > 0, getrusage(RUSAGE_SELF, &usage));
    struct utsname name;
    uname(&name);
    printf("machine %s\n", name.machine);
    mode_t old = umask(022);
    printf("umask %o\n", umask(old));
    unlink("data"); unlink("copy"); unlink("alias"); unlink("moved"); rmdir("sub");
    chdir("/");
    printf("rmdir %d\n", rmdir(directory));
    return 0;
}
