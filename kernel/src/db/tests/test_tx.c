/* Transactions: commit, rollback, rollback on release, commit after a failed statement. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "dbt.h"

void register_tx_tests(void);

static int
count_rows(pnk_db_pool_t *p, const char *tbl)
{
    char sql[128], err[256];
    pnk_db_conn_t *c;
    pn_rows_t *r = NULL;
    pnk_arena_t *a = pnk_arena_new(0);
    int n = -1;

    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tbl);
    if (pnk_db_acquire(p, &c, err, sizeof err) == PN_OK) {
        if (pnk_db_exec(c, sql, 0, NULL, a, &r, err, sizeof err) == PN_OK)
            sscanf(pnk_rows_value(r, 0, 0), "%d", &n);
        pnk_db_release(p, c);
    }
    pnk_arena_free(a);
    return n;
}

static void
test_tx_commit_rollback_and_release(void)
{
    pnk_db_pool_t *p = dbt_pool(1, 1.0, 0);
    pnk_db_conn_t *c;
    char tbl[64], sql[256], ins[256], err[256];

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    dbt_name(tbl, sizeof tbl, "t_tx");
    snprintf(sql, sizeof sql, "CREATE TABLE %s (a int)", tbl);
    CU_ASSERT_EQUAL_FATAL(dbt_exec(p, sql), PN_OK);
    snprintf(ins, sizeof ins, "INSERT INTO %s VALUES (1)", tbl);

    /* Released inside a transaction: rolled back, and the (only) connection is clean. */
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    CU_ASSERT_FALSE(pnk_db_in_tx(c));
    CU_ASSERT_EQUAL(pnk_db_begin(c, err, sizeof err), PN_OK);
    CU_ASSERT_TRUE(pnk_db_in_tx(c));
    CU_ASSERT_EQUAL(pnk_db_begin(c, err, sizeof err), PN_E_INTERNAL);
    CU_ASSERT_EQUAL(pnk_db_exec(c, ins, 0, NULL, NULL, NULL, err, sizeof err), PN_OK);
    pnk_db_release(p, c);
    CU_ASSERT_EQUAL(count_rows(p, tbl), 0);

    /* Explicit rollback, then commit. */
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    CU_ASSERT_FALSE(pnk_db_in_tx(c));
    CU_ASSERT_EQUAL(pnk_db_rollback(c, err, sizeof err), PN_OK); /* none open: no-op */
    CU_ASSERT_EQUAL(pnk_db_commit(c, err, sizeof err), PN_E_INTERNAL);
    CU_ASSERT_EQUAL(pnk_db_begin(c, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_exec(c, ins, 0, NULL, NULL, NULL, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_rollback(c, err, sizeof err), PN_OK);
    CU_ASSERT_FALSE(pnk_db_in_tx(c));
    CU_ASSERT_EQUAL(pnk_db_begin(c, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_exec(c, ins, 0, NULL, NULL, NULL, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_exec(c, ins, 0, NULL, NULL, NULL, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_commit(c, err, sizeof err), PN_OK);
    CU_ASSERT_FALSE(pnk_db_in_tx(c));
    pnk_db_release(p, c);
    CU_ASSERT_EQUAL(count_rows(p, tbl), 2);

    /* A failed statement aborts the transaction; COMMIT must not pretend it worked. */
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_begin(c, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_exec(c, ins, 0, NULL, NULL, NULL, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_exec(c, "SELECT 1/0", 0, NULL, NULL, NULL, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_TRUE(pnk_db_in_tx(c));
    CU_ASSERT_NOT_EQUAL(pnk_db_commit(c, err, sizeof err), PN_OK);
    CU_ASSERT_FALSE(pnk_db_in_tx(c));
    pnk_db_release(p, c);
    CU_ASSERT_EQUAL(count_rows(p, tbl), 2);

    /* Released in a failed transaction: still reusable. */
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_db_begin(c, err, sizeof err), PN_OK);
    CU_ASSERT_NOT_EQUAL(pnk_db_exec(c, "SELEC", 0, NULL, NULL, NULL, err, sizeof err), PN_OK);
    pnk_db_release(p, c);
    CU_ASSERT_EQUAL(count_rows(p, tbl), 2);

    snprintf(sql, sizeof sql, "DROP TABLE %s", tbl);
    CU_ASSERT_EQUAL(dbt_exec(p, sql), PN_OK);
    pnk_db_stats_t st;
    pnk_db_stats(p, &st);
    CU_ASSERT_EQUAL(st.size, 1);
    CU_ASSERT_EQUAL(st.open, 1); /* nothing above should have cost the session */
    CU_ASSERT_EQUAL(st.in_use, 0);
    pnk_db_pool_free(p);
}

void
register_tx_tests(void)
{
    CU_pSuite s = CU_add_suite("db_tx", NULL, NULL);
    CU_add_test(s, "test_tx_commit_rollback_and_release", test_tx_commit_rollback_and_release);
}
