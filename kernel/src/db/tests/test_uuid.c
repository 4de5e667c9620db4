/* UUIDv7: layout, version and variant bits, order within one thread, uniqueness across four. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "dbt.h"

void register_uuid_tests(void);

#define N 100000

static void
test_uuid_layout_and_order(void)
{
    static char ids[N][37];
    struct timeval tv;
    int bad_order = 0, bad_shape = 0;

    gettimeofday(&tv, NULL);
    unsigned long long before = (unsigned long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    for (int i = 0; i < N; i++) {
        pnk_uuid_v7(ids[i]);
        const char *u = ids[i];
        if (strlen(u) != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' ||
            u[14] != '7' || strchr("89ab", u[19]) == NULL || strspn(u, "0123456789abcdef-") != 36)
            bad_shape++;
        if (i > 0 && strcmp(ids[i - 1], u) >= 0)
            bad_order++;
    }
    CU_ASSERT_EQUAL(bad_shape, 0);
    CU_ASSERT_EQUAL(bad_order, 0);
    /* The first 48 bits are the Unix time in ms (the counter may run a little ahead). */
    char hex[13];
    memcpy(hex, ids[0], 8);
    memcpy(hex + 8, ids[0] + 9, 4);
    hex[12] = '\0';
    unsigned long long ms = strtoull(hex, NULL, 16);
    CU_ASSERT_TRUE(ms >= before && ms < before + 5000);
}

typedef struct gen {
    char (*ids)[37];
    int n;
} gen_t;

static void *
generate(void *arg)
{
    gen_t *g = arg;
    for (int i = 0; i < g->n; i++)
        pnk_uuid_v7(g->ids[i]);
    return NULL;
}

static int
cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void
test_uuid_unique_across_threads(void)
{
    enum { T = 4, PER = 25000 };
    char(*all)[37] = calloc((size_t)T * PER, 37);
    pthread_t th[T];
    gen_t g[T];
    int dups = 0, unordered = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    for (int t = 0; t < T; t++) {
        g[t] = (gen_t){.ids = all + (size_t)t * PER, .n = PER};
        pthread_create(&th[t], NULL, generate, &g[t]);
    }
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < T; t++) /* each thread's own ids still go up */
        for (int i = 1; i < PER; i++)
            if (strcmp(all[(size_t)t * PER + i - 1], all[(size_t)t * PER + i]) >= 0)
                unordered++;
    qsort(all, (size_t)T * PER, 37, cmp);
    for (size_t i = 1; i < (size_t)T * PER; i++)
        if (strcmp(all[i - 1], all[i]) == 0)
            dups++;
    CU_ASSERT_EQUAL(unordered, 0);
    CU_ASSERT_EQUAL(dups, 0);
    free(all);
}

void
register_uuid_tests(void)
{
    CU_pSuite s = CU_add_suite("db_uuid", NULL, NULL);
    CU_add_test(s, "test_uuid_layout_and_order", test_uuid_layout_and_order);
    CU_add_test(s, "test_uuid_unique_across_threads", test_uuid_unique_across_threads);
}
