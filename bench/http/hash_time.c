/*
 * Prints the median wall time of one password hash at the cost the server uses (argon2id,
 * kernel/src/auth/password.c), for the HTTP benchmark's report. Not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../kernel/src/auth/password.h"

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 15;
    double ms[64];
    char out[PNK_PASSWORD_HASH_MAX], err[128];
    const char *pwd = "correct horse battery staple";

    if (n < 1 || n > 64)
        n = 15;
    for (int i = 0; i < n; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (pnk_password_hash(pwd, strlen(pwd), out, sizeof out, err, sizeof err) != 0) {
            (void)fprintf(stderr, "hash failed: %s\n", err);
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    }
    qsort(ms, (size_t)n, sizeof ms[0], cmp);
    (void)printf("%.1f\n", ms[n / 2]);
    return 0;
}
