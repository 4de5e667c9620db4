/* The pool: lazy opening, exhaustion within the acquire timeout, hand-over, 8 threads. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbt.h"

void register_pool_tests(void);

static void
test_pool_exhaustion_is_unavailable_in_time(void)
{
    pnk_db_pool_t *p = dbt_pool(2, 0.3, 0);
    pnk_db_conn_t *a, *b, *c;
    pnk_db_stats_t st;
    char err[256];

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    pnk_db_stats(p, &st);
    CU_ASSERT_EQUAL(st.size, 2);
    CU_ASSERT_EQUAL(st.open, 1); /* only the start-up check so far */
    CU_ASSERT_EQUAL(pnk_db_ping(p), PN_OK);
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &a, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &b, err, sizeof err), PN_OK);
    CU_ASSERT_PTR_NOT_EQUAL(a, b);
    pnk_db_stats(p, &st);
    CU_ASSERT_EQUAL(st.open, 2);
    CU_ASSERT_EQUAL(st.in_use, 2);

    double t0 = dbt_now();
    CU_ASSERT_EQUAL(pnk_db_acquire(p, &c, err, sizeof err), PN_E_UNAVAILABLE);
    double waited = dbt_now() - t0;
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_TRUE(waited >= 0.25 && waited < 1.5);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no database connection free"));
    pnk_db_stats(p, &st);
    CU_ASSERT_EQUAL(st.timeouts_total, 1);
    CU_ASSERT_EQUAL(pnk_db_ping(p), PN_E_UNAVAILABLE);

    pnk_db_release(p, b);
    CU_ASSERT_EQUAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    CU_ASSERT_PTR_EQUAL(c, b);
    pnk_db_release(p, c);
    pnk_db_release(p, a);
    pnk_db_stats(p, &st);
    CU_ASSERT_EQUAL(st.in_use, 0);
    CU_ASSERT_EQUAL(st.acquired_total, 4);
    pnk_db_pool_free(p);
}

typedef struct waiter {
    pnk_db_pool_t *p;
    int rc;
    double waited;
} waiter_t;

static void *
wait_for_conn(void *arg)
{
    waiter_t *w = arg;
    pnk_db_conn_t *c;
    char err[256];
    double t0 = dbt_now();

    w->rc = pnk_db_acquire(w->p, &c, err, sizeof err);
    w->waited = dbt_now() - t0;
    if (w->rc == PN_OK)
        pnk_db_release(w->p, c);
    return NULL;
}

static void
test_pool_release_wakes_a_waiter(void)
{
    pnk_db_pool_t *p = dbt_pool(1, 5.0, 0);
    pnk_db_conn_t *c;
    pthread_t th;
    char err[256];
    waiter_t w = {.p = p, .rc = 99};

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    pthread_create(&th, NULL, wait_for_conn, &w);
    for (int i = 0; i < 200; i++) { /* until the waiter is waiting, at most 2 s */
        pnk_db_stats_t st;
        pnk_db_stats(p, &st);
        if (st.waiting == 1)
            break;
        usleep(10000);
    }
    usleep(100000);
    pnk_db_release(p, c);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(w.rc, PN_OK);
    CU_ASSERT_TRUE(w.waited >= 0.1 && w.waited < 2.0);
    pnk_db_pool_free(p);
}

#define THREADS 8
#define ROUNDS 150

typedef struct worker {
    pnk_db_pool_t *p;
    const char *tbl;
    int id, ok, failed;
} worker_t;

static void *
work(void *arg)
{
    worker_t *w = arg;
    char ins[160], sel[160], tid[16], n[16], err[256];
    pnk_arena_t *a = pnk_arena_new(0);

    snprintf(ins, sizeof ins, "INSERT INTO %s (t, n) VALUES ($1, $2)", w->tbl);
    snprintf(sel, sizeof sel, "SELECT count(*) FROM %s WHERE t = $1", w->tbl);
    snprintf(tid, sizeof tid, "%d", w->id);
    for (int i = 0; i < ROUNDS; i++) {
        pnk_db_conn_t *c;
        pn_rows_t *r = NULL;
        const char *params[] = {tid, n};
        snprintf(n, sizeof n, "%d", i);
        if (pnk_db_acquire(w->p, &c, err, sizeof err) != PN_OK) {
            w->failed++;
            continue;
        }
        if (pnk_db_exec(c, ins, 2, params, NULL, NULL, err, sizeof err) == PN_OK &&
            pnk_db_exec(c, sel, 1, params, a, &r, err, sizeof err) == PN_OK &&
            atoi(pnk_rows_value(r, 0, 0)) == i + 1)
            w->ok++;
        else
            w->failed++;
        pnk_db_release(w->p, c);
    }
    pnk_arena_free(a);
    return NULL;
}

static void
test_pool_eight_threads(void)
{
    pnk_db_pool_t *p = dbt_pool(3, 10.0, 5000);
    pthread_t th[THREADS];
    worker_t w[THREADS];
    char tbl[64], sql[160];

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    dbt_name(tbl, sizeof tbl, "t_pool");
    snprintf(sql, sizeof sql, "CREATE TABLE %s (t int, n int)", tbl);
    CU_ASSERT_EQUAL_FATAL(dbt_exec(p, sql), PN_OK);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.p = p, .tbl = tbl, .id = i};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    int ok = 0, failed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        failed += w[i].failed;
    }
    CU_ASSERT_EQUAL(ok, THREADS * ROUNDS);
    CU_ASSERT_EQUAL(failed, 0);
    pnk_db_stats_t st;
    pnk_db_stats(p, &st);
    CU_ASSERT_TRUE(st.open <= 3);
    CU_ASSERT_EQUAL(st.in_use, 0);
    CU_ASSERT_EQUAL(st.waiting, 0);
    CU_ASSERT_TRUE(st.acquired_total >= THREADS * ROUNDS);
    snprintf(sql, sizeof sql, "DROP TABLE %s", tbl);
    CU_ASSERT_EQUAL(dbt_exec(p, sql), PN_OK);
    pnk_db_pool_free(p);
}

static int
backend_pid(pnk_db_conn_t *c, pnk_arena_t *a)
{
    pn_rows_t *r = NULL;
    char err[256];

    if (pnk_db_exec(c, "SELECT pg_backend_pid()", 0, NULL, a, &r, err, sizeof err) != PN_OK)
        return -1;
    return atoi(pnk_rows_value(r, 0, 0));
}

static void
terminate(pnk_db_pool_t *killer, int pid)
{
    char sql[96];

    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
    CU_ASSERT_EQUAL(dbt_exec(killer, sql), PN_OK);
    usleep(200000); /* the backend exits and closes the socket */
}

/* A session killed under a holder fails with UNAVAILABLE and is replaced on the next acquire;
 * one killed while idle in the pool is noticed at acquire and never reaches the caller. */
static void
test_pool_replaces_terminated_sessions(void)
{
    pnk_db_pool_t *p = dbt_pool(1, 1.0, 0), *killer = dbt_pool(1, 1.0, 0);
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_db_conn_t *c;
    char err[256];
    int pid, pid2;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(killer);
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    pid = backend_pid(c, a);
    CU_ASSERT_TRUE_FATAL(pid > 0);
    terminate(killer, pid);
    CU_ASSERT_EQUAL(pnk_db_exec(c, "SELECT 1", 0, NULL, NULL, NULL, err, sizeof err),
                    PN_E_UNAVAILABLE);
    CU_ASSERT_EQUAL(pnk_db_exec(c, "SELECT 1", 0, NULL, NULL, NULL, err, sizeof err),
                    PN_E_UNAVAILABLE);
    pnk_db_release(p, c);

    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    pid2 = backend_pid(c, a);
    CU_ASSERT_TRUE(pid2 > 0 && pid2 != pid);
    pnk_db_release(p, c);

    terminate(killer, pid2);
    CU_ASSERT_EQUAL_FATAL(pnk_db_acquire(p, &c, err, sizeof err), PN_OK);
    pid = backend_pid(c, a);
    CU_ASSERT_TRUE(pid > 0 && pid != pid2);
    pnk_db_release(p, c);

    pnk_db_stats_t st;
    pnk_db_stats(p, &st);
    CU_ASSERT_EQUAL(st.open, 1);
    CU_ASSERT_TRUE(st.errors_total >= 1);
    pnk_arena_free(a);
    pnk_db_pool_free(killer);
    pnk_db_pool_free(p);
}

void
register_pool_tests(void)
{
    CU_pSuite s = CU_add_suite("db_pool", NULL, NULL);
    CU_add_test(s, "test_pool_exhaustion_is_unavailable_in_time",
                test_pool_exhaustion_is_unavailable_in_time);
    CU_add_test(s, "test_pool_release_wakes_a_waiter", test_pool_release_wakes_a_waiter);
    CU_add_test(s, "test_pool_eight_threads", test_pool_eight_threads);
    CU_add_test(s, "test_pool_replaces_terminated_sessions",
                test_pool_replaces_terminated_sessions);
}
