/* Test helpers: see dbt.h. */
#include "dbt.h"

#include <CUnit/CUnit.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

const char *
dbt_url(void)
{
    const char *url = getenv("PN_TEST_DATABASE_URL");

    if (url == NULL || url[0] == '\0') {
        fprintf(stderr,
                "\nPN_TEST_DATABASE_URL is not set: these tests need a real PostgreSQL, "
                "e.g. PN_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:55999/postgres\n");
        CU_FAIL("PN_TEST_DATABASE_URL is not set");
        return NULL;
    }
    return url;
}

pnk_db_pool_t *
dbt_pool(int size, double acquire_timeout, int statement_timeout_ms)
{
    char err[512];
    const char *url = dbt_url();
    pnk_db_pool_t *p;

    if (url == NULL)
        return NULL;
    pnk_db_config_t cfg = {.url = url,
                           .pool_size = size,
                           .acquire_timeout = acquire_timeout,
                           .connect_timeout = 2,
                           .statement_timeout_ms = statement_timeout_ms};
    p = pnk_db_pool_new(&cfg, err, sizeof err);
    if (p == NULL) {
        fprintf(stderr, "\ncannot open a pool on PN_TEST_DATABASE_URL: %s\n", err);
        CU_FAIL("cannot open a pool on PN_TEST_DATABASE_URL");
    }
    return p;
}

void
dbt_name(char *buf, size_t n, const char *prefix)
{
    static atomic_int seq;

    snprintf(buf, n, "%s_%ld_%d", prefix, (long)getpid(), atomic_fetch_add(&seq, 1));
}

int
dbt_exec(pnk_db_pool_t *p, const char *sql)
{
    pnk_db_conn_t *c;
    char err[256];
    int rc = pnk_db_acquire(p, &c, err, sizeof err);

    if (rc != PN_OK)
        return rc;
    rc = pnk_db_exec(c, sql, 0, NULL, NULL, NULL, err, sizeof err);
    pnk_db_release(p, c);
    return rc;
}

double
dbt_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
