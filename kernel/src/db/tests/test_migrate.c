/* Migrations: apply once, refuse changed files, bad names, missing dirs, failing files, and
 * two runners at once applying each file exactly once. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbt.h"

void register_migrate_tests(void);

static char dir[256];

static void
put(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void
make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/pn_db_migrate_XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

static void
remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void
sha256_hex(const char *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;

    EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
query_int(pnk_db_pool_t *p, const char *sql, const char *param)
{
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_db_conn_t *c;
    pn_rows_t *r = NULL;
    char err[256];
    int v = -1;
    const char *params[] = {param};

    if (pnk_db_acquire(p, &c, err, sizeof err) == PN_OK) {
        if (pnk_db_exec(c, sql, param ? 1 : 0, params, a, &r, err, sizeof err) == PN_OK &&
            pnk_rows_count(r) == 1)
            v = atoi(pnk_rows_value(r, 0, 0));
        pnk_db_release(p, c);
    }
    pnk_arena_free(a);
    return v;
}

static void
forget_owner(pnk_db_pool_t *p, const char *owner)
{
    query_int(p,
              "WITH d AS (DELETE FROM pn_schema_migrations WHERE owner = $1 RETURNING 1)"
              " SELECT count(*) FROM d",
              owner);
}

static void
test_migrate_applies_once_and_refuses_changes(void)
{
    pnk_db_pool_t *p = dbt_pool(2, 2.0, 1000);
    char owner[64], t1[64], sql1[256], sql2[256], err[512], want[512];
    int applied = -1;
    bool pending = false;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    make_dir();
    dbt_name(owner, sizeof owner, "test_mig");
    dbt_name(t1, sizeof t1, "t_mig");
    snprintf(sql1, sizeof sql1,
             "CREATE TABLE %s (a int);\nINSERT INTO %s VALUES (1);\n-- two statements\n", t1, t1);
    snprintf(sql2, sizeof sql2, "ALTER TABLE %s ADD COLUMN b text;\n", t1);
    put("0001_create.sql", sql1);
    put("0002_alter.sql", sql2);
    pnk_migration_source_t src = {.owner = owner, .version = "1.2.3", .dir = dir};

    CU_ASSERT_EQUAL(pnk_db_migrations_pending(p, &src, 1, &pending), PN_OK);
    CU_ASSERT_TRUE(pending);
    CU_ASSERT_EQUAL(pnk_db_migrate(p, &src, 1, &applied, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(applied, 2);
    CU_ASSERT_EQUAL(pnk_db_migrations_pending(p, &src, 1, &pending), PN_OK);
    CU_ASSERT_FALSE(pending);
    CU_ASSERT_EQUAL(pnk_db_migrate(p, &src, 1, &applied, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(applied, 0);
    CU_ASSERT_EQUAL(query_int(p,
                              "SELECT count(*) FROM pn_schema_migrations WHERE owner = $1"
                              " AND version = '1.2.3' AND length(checksum) = 64",
                              owner),
                    2);

    /* The session's statement_timeout is back to the pool's after the run. */
    CU_ASSERT_EQUAL(
        query_int(p, "SELECT setting::int FROM pg_settings WHERE name = $1", "statement_timeout"),
        1000);

    /* A new file is pending, then applied alone. */
    put("0003_more.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(pnk_db_migrations_pending(p, &src, 1, &pending), PN_OK);
    CU_ASSERT_TRUE(pending);
    CU_ASSERT_EQUAL(pnk_db_migrate(p, &src, 1, &applied, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(applied, 1);

    /* Changing an applied file stops the run, with the documented message. */
    char old_sum[65], new_sum[65];
    const char *changed = "ALTER TABLE nothing_here ADD COLUMN c int;\n";
    sha256_hex(sql2, old_sum);
    sha256_hex(changed, new_sum);
    put("0002_alter.sql", changed);
    put("0004_later.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(pnk_db_migrate(p, &src, 1, &applied, err, sizeof err), PN_E_INTERNAL);
    CU_ASSERT_EQUAL(applied, 0);
    snprintf(want, sizeof want,
             "migration %s/0002_alter.sql was changed after it was applied (checksum %.12s.. now "
             "%.12s..); add a new migration instead",
             owner, old_sum, new_sum);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(
        query_int(p, "SELECT count(*) FROM pn_schema_migrations WHERE owner = $1", owner),
        3); /* 0004 was not applied either */

    snprintf(sql1, sizeof sql1, "DROP TABLE %s", t1);
    CU_ASSERT_EQUAL(dbt_exec(p, sql1), PN_OK);
    forget_owner(p, owner);
    remove_dir();
    pnk_db_pool_free(p);
}

static void
test_migrate_refuses_bad_names_and_missing_dirs(void)
{
    pnk_db_pool_t *p = dbt_pool(1, 2.0, 0);
    char owner[64], err[512];
    int applied = -1;
    bool pending;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    make_dir();
    dbt_name(owner, sizeof owner, "test_mig");
    pnk_migration_source_t src = {.owner = owner, .version = "1", .dir = dir};
    put("0001_ok.sql", "SELECT 1;");
    put("1_bad.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(pnk_db_migrate(p, &src, 1, &applied, err, sizeof err), PN_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "1_bad.sql"));
    CU_ASSERT_EQUAL(applied, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/1_bad.sql", dir);
    unlink(path);
    put("0002_Upper.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(pnk_db_migrate(p, &src, 1, &applied, err, sizeof err), PN_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "0002_Upper.sql"));
    CU_ASSERT_NOT_EQUAL(pnk_db_migrations_pending(p, &src, 1, &pending), PN_OK);
    CU_ASSERT_EQUAL(
        query_int(p, "SELECT count(*) FROM pn_schema_migrations WHERE owner = $1", owner), 0);
    remove_dir();

    src.dir = "/nonexistent/pn/sql";
    CU_ASSERT_EQUAL(pnk_db_migrate(p, &src, 1, &applied, err, sizeof err), PN_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/pn/sql"));
    pnk_db_pool_free(p);
}

static void
test_migrate_failing_file_rolls_back(void)
{
    pnk_db_pool_t *p = dbt_pool(1, 2.0, 0);
    char owner[64], t1[64], sql[256], err[512];
    int applied = -1;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    make_dir();
    dbt_name(owner, sizeof owner, "test_mig");
    dbt_name(t1, sizeof t1, "t_migfail");
    pnk_migration_source_t src = {.owner = owner, .version = "1", .dir = dir};
    put("0001_ok.sql", "SELECT 1;");
    snprintf(sql, sizeof sql, "CREATE TABLE %s (a int);\n\nSELEC oops;\n", t1);
    put("0002_broken.sql", sql);
    put("0003_never.sql", "SELECT 1;");
    CU_ASSERT_EQUAL(pnk_db_migrate(p, &src, 1, &applied, err, sizeof err), PN_E_INTERNAL);
    CU_ASSERT_EQUAL(applied, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "0002_broken.sql failed (line 3)"));
    CU_ASSERT_EQUAL(query_int(p, "SELECT count(*) FROM pg_class WHERE relname = $1", t1), 0);
    CU_ASSERT_EQUAL(
        query_int(p, "SELECT count(*) FROM pn_schema_migrations WHERE owner = $1", owner), 1);
    /* The lock went with the failed run (the pool's one session is asked). */
    CU_ASSERT_EQUAL(query_int(p,
                              "SELECT count(*) FROM pg_locks WHERE locktype = $1"
                              " AND pid = pg_backend_pid()",
                              "advisory"),
                    0);
    forget_owner(p, owner);
    remove_dir();
    pnk_db_pool_free(p);
}

typedef struct runner {
    pnk_migration_source_t src;
    int rc, applied;
    char err[512];
} runner_t;

static void *
run_migrations(void *arg)
{
    runner_t *r = arg;
    pnk_db_pool_t *p = dbt_pool(1, 5.0, 0); /* a pool each: two servers */

    r->rc = PN_E_INTERNAL;
    if (p) {
        r->rc = pnk_db_migrate(p, &r->src, 1, &r->applied, r->err, sizeof r->err);
        pnk_db_pool_free(p);
    }
    return NULL;
}

static void
test_migrate_concurrent_runs_apply_each_once(void)
{
    pnk_db_pool_t *p = dbt_pool(1, 2.0, 0);
    char owner[64], t1[64], sql[256];
    runner_t r[3];
    pthread_t th[3];

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    make_dir();
    dbt_name(owner, sizeof owner, "test_mig");
    dbt_name(t1, sizeof t1, "t_migrace");
    /* Without the lock both runners would try to create the table and one would fail. */
    snprintf(sql, sizeof sql, "CREATE TABLE %s (a int);\nSELECT pg_sleep(0.3);\n", t1);
    put("0001_create.sql", sql);
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (1);\n", t1);
    put("0002_insert.sql", sql);
    for (int i = 0; i < 3; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].src = (pnk_migration_source_t){.owner = owner, .version = "1", .dir = dir};
        pthread_create(&th[i], NULL, run_migrations, &r[i]);
    }
    int total = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(r[i].rc, PN_OK);
        if (r[i].rc != PN_OK)
            fprintf(stderr, "\nrunner %d: %s\n", i, r[i].err);
        total += r[i].applied;
    }
    CU_ASSERT_EQUAL(total, 2);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t1);
    CU_ASSERT_EQUAL(query_int(p, sql, NULL), 1);
    snprintf(sql, sizeof sql, "DROP TABLE %s", t1);
    CU_ASSERT_EQUAL(dbt_exec(p, sql), PN_OK);
    forget_owner(p, owner);
    remove_dir();
    pnk_db_pool_free(p);
}

void
register_migrate_tests(void)
{
    CU_pSuite s = CU_add_suite("db_migrate", NULL, NULL);
    CU_add_test(s, "test_migrate_applies_once_and_refuses_changes",
                test_migrate_applies_once_and_refuses_changes);
    CU_add_test(s, "test_migrate_refuses_bad_names_and_missing_dirs",
                test_migrate_refuses_bad_names_and_missing_dirs);
    CU_add_test(s, "test_migrate_failing_file_rolls_back", test_migrate_failing_file_rolls_back);
    CU_add_test(s, "test_migrate_concurrent_runs_apply_each_once",
                test_migrate_concurrent_runs_apply_each_once);
}
