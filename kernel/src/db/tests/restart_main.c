/*
 * PostgreSQL restarts under a live pool: queries may fail with PN_E_UNAVAILABLE (and fail
 * fast) while it is down, and the same pool works again within 10 s, on every connection.
 * Needs PN_TEST_DATABASE_URL and PN_TEST_PG_RESTART_CMD (a shell command that restarts it).
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dbt.h"

static int
query(pnk_db_pool_t *p, pnk_db_conn_t **held)
{
    pnk_db_conn_t *c;
    char err[256];
    int rc = pnk_db_acquire(p, &c, err, sizeof err);

    if (rc != PN_OK)
        return rc;
    rc = pnk_db_exec(c, "SELECT 1", 0, NULL, NULL, NULL, err, sizeof err);
    if (held && rc == PN_OK)
        *held = c;
    else
        pnk_db_release(p, c);
    return rc;
}

static void
test_restart_pool_recovers(void)
{
    const char *cmd = getenv("PN_TEST_PG_RESTART_CMD");
    pnk_db_conn_t *a = NULL, *b = NULL;

    if (cmd == NULL || cmd[0] == '\0') {
        fprintf(stderr, "\nPN_TEST_PG_RESTART_CMD is not set: the PostgreSQL restart test was "
                        "NOT run (set it to a shell command that restarts the test server)\n");
        CU_FAIL_FATAL("PN_TEST_PG_RESTART_CMD is not set; restart test not run");
    }
    /* acquire_timeout is long on purpose: a failure must come from the fast path. */
    pnk_db_pool_t *p = dbt_pool(2, 5.0, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* Open both connections so both go stale. */
    CU_ASSERT_EQUAL_FATAL(query(p, &a), PN_OK);
    CU_ASSERT_EQUAL_FATAL(query(p, &b), PN_OK);
    pnk_db_release(p, a);
    pnk_db_release(p, b);

    int rc = system(cmd);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    double t0 = dbt_now(), slowest_failure = 0;
    int ok_at = -1, wrong_code = 0;
    for (int i = 0; i < 200 && dbt_now() - t0 < 10.0; i++) {
        double s = dbt_now();
        rc = query(p, NULL);
        if (rc == PN_OK) {
            ok_at = i;
            break;
        }
        if (rc != PN_E_UNAVAILABLE)
            wrong_code++;
        if (dbt_now() - s > slowest_failure)
            slowest_failure = dbt_now() - s;
        usleep(50000);
    }
    double took = dbt_now() - t0;
    fprintf(stderr, "\nrecovered after %d failed queries in %.2f s (slowest failure %.3f s)\n",
            ok_at, took, slowest_failure);
    CU_ASSERT_TRUE(ok_at >= 0);
    CU_ASSERT_TRUE(took < 10.0);
    CU_ASSERT_EQUAL(wrong_code, 0);
    CU_ASSERT_TRUE(slowest_failure < 3.0);

    /* Both connections of the pool work, held at the same time. */
    a = b = NULL;
    int ra = PN_E_INTERNAL, rb = PN_E_INTERNAL;
    for (int i = 0; i < 100 && dbt_now() - t0 < 15.0; i++) {
        ra = query(p, &a);
        rb = ra == PN_OK ? query(p, &b) : PN_E_UNAVAILABLE;
        if (ra == PN_OK && rb == PN_OK)
            break;
        if (a)
            pnk_db_release(p, a);
        a = NULL;
        usleep(50000);
    }
    CU_ASSERT_EQUAL(ra, PN_OK);
    CU_ASSERT_EQUAL(rb, PN_OK);
    if (a)
        pnk_db_release(p, a);
    if (b)
        pnk_db_release(p, b);
    pnk_db_stats_t st;
    pnk_db_stats(p, &st);
    CU_ASSERT_EQUAL(st.open, 2);
    CU_ASSERT_EQUAL(st.in_use, 0);
    pnk_db_pool_free(p);
}

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("db_restart", NULL, NULL);
    CU_add_test(s, "test_restart_pool_recovers", test_restart_pool_recovers);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
