/* See testdb.h. The schema is selected through the connection's search_path, so the
 * migrations run exactly as in production, only in a namespace of their own. */
#include "testdb.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pnk_db_pool_t *admin, *pool;
static char schema[64];

const char *
testdb_url(void)
{
    const char *url = getenv("PN_TEST_DATABASE_URL");
    if (!url || !*url) {
        fprintf(stderr, "\nPN_TEST_DATABASE_URL is not set: the auth database tests need a real "
                        "PostgreSQL 15, e.g. "
                        "PN_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:55998/postgres\n");
        return NULL;
    }
    return url;
}

/* key='value' with the quoting libpq expects. */
static void
append_kv(char *buf, size_t n, const char *key, const char *val)
{
    size_t len = strlen(buf);
    len += (size_t)snprintf(buf + len, n - len, "%s%s='", len ? " " : "", key);
    for (const char *p = val; *p && len + 3 < n; p++) {
        if (*p == '\'' || *p == '\\')
            buf[len++] = '\\';
        buf[len++] = *p;
    }
    snprintf(buf + len, n - len, "'");
}

/* The URL as key=value pairs with options replaced to select the schema. */
static int
schema_conninfo(const char *url, char *out, size_t n)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        fprintf(stderr, "PN_TEST_DATABASE_URL: %s\n", perr ? perr : "cannot parse");
        PQfreemem(perr);
        return -1;
    }
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && strcmp(o->keyword, "options") != 0)
            append_kv(out, n, o->keyword, o->val);
    char optv[128];
    snprintf(optv, sizeof optv, "-c search_path=%s", schema);
    append_kv(out, n, "options", optv);
    PQconninfoFree(opts);
    return 0;
}

static pnk_db_pool_t *
open_pool(const char *url, int size)
{
    char err[512];
    pnk_db_config_t cfg = {.url = url,
                           .pool_size = size,
                           .acquire_timeout = 5,
                           .connect_timeout = 3,
                           .statement_timeout_ms = 20000};
    pnk_db_pool_t *p = pnk_db_pool_new(&cfg, err, sizeof err);
    if (!p)
        fprintf(stderr, "cannot connect to PN_TEST_DATABASE_URL: %s\n", err);
    return p;
}

static int
exec_on(pnk_db_pool_t *p, const char *sql, int n, const char *const *params, pnk_arena_t *arena,
        pn_rows_t **rows)
{
    pnk_db_conn_t *c = NULL;
    char err[512];
    int rc = pnk_db_acquire(p, &c, err, sizeof err);
    if (rc == PN_OK) {
        rc = pnk_db_exec(c, sql, n, params, arena, rows, err, sizeof err);
        pnk_db_release(p, c);
    }
    if (rc != PN_OK)
        fprintf(stderr, "testdb: %s: %s\n", sql, err);
    return rc;
}

int
testdb_open(int *applied)
{
    const char *url = testdb_url();
    char conninfo[4096], sql[160], err[1024];
    if (!url)
        return -1;
    snprintf(schema, sizeof schema, "pn_auth_test_%ld_%ld", (long)getpid(), (long)time(NULL));
    if (!(admin = open_pool(url, 1)))
        return -1;
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    if (exec_on(admin, sql, 0, NULL, NULL, NULL) != PN_OK)
        return -1;
    if (schema_conninfo(url, conninfo, sizeof conninfo) != 0 || !(pool = open_pool(conninfo, 4)))
        return -1;
    pnk_migration_source_t src = {.owner = "core", .version = "test", .dir = PN_SQL_DIR};
    if (pnk_db_migrate(pool, &src, 1, applied, err, sizeof err) != PN_OK) {
        fprintf(stderr, "core migrations failed: %s\n", err);
        return -1;
    }
    return 0;
}

pnk_db_pool_t *
testdb_pool(void)
{
    return pool;
}

const char *
testdb_schema(void)
{
    return schema;
}

int
testdb_exec(const char *sql, int n, const char *const *params, pnk_arena_t *arena, pn_rows_t **rows)
{
    return exec_on(pool, sql, n, params, arena, rows);
}

long
testdb_scalar(const char *sql, int n, const char *const *params)
{
    pnk_arena_t *a = pnk_arena_new(0);
    pn_rows_t *rows = NULL;
    long v = -1;
    if (testdb_exec(sql, n, params, a, &rows) == PN_OK && pnk_rows_count(rows) > 0 &&
        pnk_rows_value(rows, 0, 0))
        v = strtol(pnk_rows_value(rows, 0, 0), NULL, 10);
    pnk_arena_free(a);
    return v;
}

void
testdb_close(void)
{
    pnk_db_pool_free(pool);
    pool = NULL;
    if (admin && schema[0]) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
        (void)exec_on(admin, sql, 0, NULL, NULL, NULL);
    }
    pnk_db_pool_free(admin);
    admin = NULL;
}
