// String and memory functions from libc (many are hand-written assembly).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

int main(void) {
    char buffer[256];
    strcpy(buffer, "The quick brown fox jumps over the lazy dog");
    printf("len=%zu strchr=%s strrchr=%s strstr=%s\n", strlen(buffer), strchr(buffer, 'q'), strrchr(buffer, 'o'), strstr(buffer, "lazy"));
    printf("cmp=%d %d %d ncmp=%d casecmp=%d\n", strcmp("abc", "abd") < 0, strcmp("b", "a") > 0, strcmp("x", "x"),
           strncmp("abcdef", "abcxyz", 3), strcasecmp("HeLLo", "hello"));
    char copy[256];
    memcpy(copy, buffer, sizeof buffer);
    memmove(copy + 4, copy, 20);
    printf("memmove=%s\n", copy);
    printf("memcmp=%d memchr=%s\n", memcmp("abc", "abd", 3) < 0, (char *)memchr(buffer, 'j', 44));
    char tokens[] = "alpha,beta;;gamma,delta";
    for (char *t = strtok(tokens, ",;"); t; t = strtok(NULL, ",;")) printf("token=%s\n", t);
    printf("strtol=%ld %ld %ld strtoul=%lu strtod=%g atoi=%d\n", strtol("-12345", NULL, 10), strtol("ff", NULL, 16),
           strtol("0777", NULL, 0), strtoul("18446744073709551615", NULL, 10), strtod("3.5e2", NULL), atoi("  77xyz"));
    for (char *p = buffer; *p; p++) *p = toupper((unsigned char)*p);
    printf("upper=%s\n", buffer);
    char *dup = strdup("duplicate me");
    printf("strdup=%s spn=%zu cspn=%zu\n", dup, strspn("aaabbbccc", "ab"), strcspn("hello world", " "));
    free(dup);
    char formatted[64];
    int n = snprintf(formatted, sizeof formatted, "%s-%05d-%x-%c", "fmt", 42, 0xbeef, 'Z');
    printf("snprintf=%s (%d)\n", formatted, n);
    char long_string[5000];
    memset(long_string, 'x', sizeof long_string - 1);
    long_string[sizeof long_string - 1] = 0;
    printf("long strlen=%zu\n", strlen(long_string + 3));
    return 0;
}
