// link: dynamic
// /proc files that must show the guest: its mappings, its executable, its auxiliary vector, (the CPU is checked apart: qemu 7.2 shows the host's).
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char line[512];
    int stack = 0, program = 0, libc = 0, lines = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    while (fgets(line, sizeof line, maps)) {
        lines++;
        stack |= strstr(line, "[stack]") != NULL;
        program |= strstr(line, "proc_self") != NULL;
        libc |= strstr(line, "libc.so.6") != NULL && strstr(line, "r-xp") != NULL;
    }
    fclose(maps);
    printf("maps: lines %d, stack %d, program %d, libc code %d\n", lines > 5, stack, program, libc);
    char exe[512] = {0};
    readlink("/proc/self/exe", exe, sizeof exe - 1);
    printf("exe ends with program name: %d\n", strstr(exe, "proc_self") != NULL);
    FILE *auxv = fopen("/proc/self/auxv", "r");
    unsigned long pair[2], entry = 0, pagesz = 0;
    while (fread(pair, sizeof pair, 1, auxv) == 1 && pair[0] != AT_NULL) {
        if (pair[0] == AT_ENTRY) entry = pair[1];
        if (pair[0] == AT_PAGESZ) pagesz = pair[1];
    }
    fclose(auxv);
    printf("auxv entry matches getauxval: %d, page size %lu\n", entry == getauxval(AT_ENTRY), pagesz);
    return 0;
}
