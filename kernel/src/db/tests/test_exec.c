/* Statements: parameters and NULLs, typed JSON, SQLSTATE mapping, stale prepared statements. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "dbt.h"

void register_exec_tests(void);

static pnk_db_pool_t *pool;
static pnk_db_conn_t *conn;
static pnk_arena_t *arena;
static char err[512];

static int
setup(void)
{
    err[0] = '\0';
    arena = pnk_arena_new(0);
    pool = dbt_pool(2, 1.0, 2000);
    if (pool == NULL)
        return 0; /* the test itself then fails on the NULL pool */
    if (pnk_db_acquire(pool, &conn, err, sizeof err) != PN_OK)
        conn = NULL;
    return 0;
}

static void
teardown(void)
{
    if (conn)
        pnk_db_release(pool, conn);
    pnk_db_pool_free(pool);
    pnk_arena_free(arena);
    pool = NULL;
    conn = NULL;
    arena = NULL;
}

/* Without a connection the test fails, after freeing what setup made. */
#define NEED_CONN()                                                                                \
    do {                                                                                           \
        if (conn == NULL) {                                                                        \
            teardown();                                                                            \
            CU_FAIL_FATAL("no database connection");                                               \
        }                                                                                          \
    } while (0)

static int
ex(const char *sql, int n, const char *const *params, pn_rows_t **rows)
{
    return pnk_db_exec(conn, sql, n, params, arena, rows, err, sizeof err);
}

static void
test_exec_params_and_nulls(void)
{
    pn_rows_t *r = NULL;
    const char *params[] = {"42", NULL, "it's \"quoted\"; DROP TABLE x"};

    setup();
    NEED_CONN();
    CU_ASSERT_EQUAL(ex("SELECT $1::int + 1 AS a, $2::text AS b, $3::text AS c", 3, params, &r),
                    PN_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(pnk_rows_count(r), 1);
    CU_ASSERT_EQUAL(pnk_rows_columns(r), 3);
    CU_ASSERT_EQUAL(pnk_rows_column(r, "b"), 1);
    CU_ASSERT_EQUAL(pnk_rows_column(r, "nope"), -1);
    CU_ASSERT_STRING_EQUAL(pnk_rows_value(r, 0, 0), "43");
    CU_ASSERT_PTR_NULL(pnk_rows_value(r, 0, 1));
    CU_ASSERT_STRING_EQUAL(pnk_rows_value(r, 0, 2), params[2]);
    CU_ASSERT_PTR_NULL(pnk_rows_value(r, 1, 0));
    CU_ASSERT_PTR_NULL(pnk_rows_value(r, 0, 3));
    CU_ASSERT_PTR_NULL(pnk_rows_value(r, -1, 0));

    /* The same text again runs the cached statement; many rows; rows not wanted. */
    CU_ASSERT_EQUAL(ex("SELECT $1::int + 1 AS a, $2::text AS b, $3::text AS c", 3, params, &r),
                    PN_OK);
    CU_ASSERT_EQUAL(ex("SELECT g, g::text || 'x' FROM generate_series(1, 500) g", 0, NULL, &r),
                    PN_OK);
    CU_ASSERT_EQUAL(pnk_rows_count(r), 500);
    CU_ASSERT_STRING_EQUAL(pnk_rows_value(r, 499, 1), "500x");
    CU_ASSERT_EQUAL(ex("SELECT 1", 0, NULL, NULL), PN_OK);
    /* A command gives an empty result, not NULL. */
    CU_ASSERT_EQUAL(ex("CREATE TEMP TABLE IF NOT EXISTS t_exec (a int)", 0, NULL, &r), PN_OK);
    CU_ASSERT_PTR_NOT_NULL(r);
    CU_ASSERT_EQUAL(pnk_rows_count(r), 0);
    /* Bad arguments are the caller's bug. */
    CU_ASSERT_EQUAL(ex("SELECT $1::int", 1, NULL, NULL), PN_E_INTERNAL);
    CU_ASSERT_EQUAL(pnk_db_exec(conn, "SELECT 1", 0, NULL, NULL, &r, err, sizeof err),
                    PN_E_INTERNAL);
    teardown();
}

static void
test_exec_rows_json_types(void)
{
    pn_rows_t *r = NULL;

    setup();
    NEED_CONN();
    CU_ASSERT_EQUAL_FATAL(
        ex("SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8, 1.5::float4 AS f4,"
           " 2.25::float8 AS f8, 3.125::numeric AS n, 12345678901::numeric AS nint,"
           " 'NaN'::float8 AS fnan, true AS bt, false AS bf, '{\"a\":[1,null]}'::json AS j,"
           " '[1,\"x\"]'::jsonb AS jb, 'text'::text AS s, NULL::int AS nul,"
           " '2024-01-02'::date AS d, '7c9e6679-7425-40de-944b-e07fc1f90ae7'::uuid AS u",
           0, NULL, &r),
        PN_OK);
    json_t *arr = pnk_rows_json(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(arr);
    CU_ASSERT_EQUAL_FATAL(json_array_size(arr), 1);
    json_t *o = json_array_get(arr, 0);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "i2")), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "i4")), 2);
    CU_ASSERT_TRUE(json_is_integer(json_object_get(o, "i8")));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "i8")), 9007199254740993LL);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(o, "f4")), 1.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(o, "f8")), 2.25, 1e-12);
    CU_ASSERT_TRUE(json_is_real(json_object_get(o, "n")));
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(o, "n")), 3.125, 1e-12);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "nint")), 12345678901LL);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "fnan")), "NaN");
    CU_ASSERT_TRUE(json_is_true(json_object_get(o, "bt")));
    CU_ASSERT_TRUE(json_is_false(json_object_get(o, "bf")));
    json_t *j = json_object_get(o, "j");
    CU_ASSERT_TRUE(json_is_object(j));
    CU_ASSERT_TRUE(json_is_null(json_array_get(json_object_get(j, "a"), 1)));
    json_t *jb = json_object_get(o, "jb");
    CU_ASSERT_TRUE(json_is_array(jb));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(jb, 1)), "x");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "s")), "text");
    CU_ASSERT_TRUE(json_is_null(json_object_get(o, "nul")));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "d")), "2024-01-02");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(o, "u")),
                           "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    json_decref(arr);

    CU_ASSERT_EQUAL(ex("SELECT 1 AS a WHERE false", 0, NULL, &r), PN_OK);
    arr = pnk_rows_json(r);
    CU_ASSERT_TRUE(json_is_array(arr) && json_array_size(arr) == 0);
    json_decref(arr);
    teardown();
}

static void
test_exec_maps_errors(void)
{
    char tbl[64], parent[64], sql[512];
    const char *dup[] = {"a@example.com"};
    const char *bad_uuid[] = {"secret-not-a-uuid"};

    setup();
    NEED_CONN();
    dbt_name(tbl, sizeof tbl, "t_err");
    dbt_name(parent, sizeof parent, "t_par");
    snprintf(sql, sizeof sql, "CREATE TABLE %s (id int PRIMARY KEY)", parent);
    CU_ASSERT_EQUAL_FATAL(ex(sql, 0, NULL, NULL), PN_OK);
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (email text CONSTRAINT %s_email_key UNIQUE, p int REFERENCES %s,"
             " n int NOT NULL DEFAULT 0, CONSTRAINT %s_n_check CHECK (n >= 0))",
             tbl, tbl, parent, tbl);
    CU_ASSERT_EQUAL_FATAL(ex(sql, 0, NULL, NULL), PN_OK);

    snprintf(sql, sizeof sql, "INSERT INTO %s (email) VALUES ($1)", tbl);
    CU_ASSERT_EQUAL(ex(sql, 1, dup, NULL), PN_OK);
    CU_ASSERT_EQUAL(ex(sql, 1, dup, NULL), PN_E_CONFLICT);
    char want[128];
    snprintf(want, sizeof want, "duplicate value for %s_email_key", tbl);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_PTR_NULL(strstr(err, "a@example.com"));

    CU_ASSERT_EQUAL(ex("SELECT $1::uuid", 1, bad_uuid, NULL), PN_E_INVALID);
    CU_ASSERT_STRING_EQUAL(err, "invalid input syntax for type uuid");
    CU_ASSERT_EQUAL(ex("SELECT 2147483647::int + $1::int", 1, (const char *[]){"1"}, NULL),
                    PN_E_INVALID);
    CU_ASSERT_STRING_EQUAL(err, "integer out of range");

    snprintf(sql, sizeof sql, "INSERT INTO %s (p) VALUES (7)", tbl);
    CU_ASSERT_EQUAL(ex(sql, 0, NULL, NULL), PN_E_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "referenced row does not exist"));
    snprintf(sql, sizeof sql, "INSERT INTO %s (n) VALUES (NULL)", tbl);
    CU_ASSERT_EQUAL(ex(sql, 0, NULL, NULL), PN_E_INVALID);
    CU_ASSERT_STRING_EQUAL(err, "missing value for n");
    snprintf(sql, sizeof sql, "INSERT INTO %s (n) VALUES (-1)", tbl);
    CU_ASSERT_EQUAL(ex(sql, 0, NULL, NULL), PN_E_INVALID);

    CU_ASSERT_EQUAL(ex("SELEC nonsense", 0, NULL, NULL), PN_E_INTERNAL);
    CU_ASSERT_STRING_EQUAL(err, "database error");
    CU_ASSERT_EQUAL(ex("SELECT pg_sleep(5)", 0, NULL, NULL), PN_E_TIMEOUT);
    /* The session is still good after all that. */
    CU_ASSERT_EQUAL(ex("SELECT 1", 0, NULL, NULL), PN_OK);

    snprintf(sql, sizeof sql, "DROP TABLE %s, %s", tbl, parent);
    CU_ASSERT_EQUAL(ex(sql, 0, NULL, NULL), PN_OK);
    teardown();
}

/* A cached statement must survive DDL that changes its result and a DEALLOCATE ALL. */
static void
test_exec_reprepares_stale_statements(void)
{
    char tbl[64], sql[256], sel[128];
    pn_rows_t *r = NULL;

    setup();
    NEED_CONN();
    dbt_name(tbl, sizeof tbl, "t_stale");
    snprintf(sql, sizeof sql, "CREATE TABLE %s (a int)", tbl);
    CU_ASSERT_EQUAL_FATAL(ex(sql, 0, NULL, NULL), PN_OK);
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (1)", tbl);
    CU_ASSERT_EQUAL(ex(sql, 0, NULL, NULL), PN_OK);
    snprintf(sel, sizeof sel, "SELECT * FROM %s", tbl);
    CU_ASSERT_EQUAL(ex(sel, 0, NULL, &r), PN_OK);
    CU_ASSERT_EQUAL(pnk_rows_columns(r), 1);
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN b text DEFAULT 'x'", tbl);
    CU_ASSERT_EQUAL(ex(sql, 0, NULL, NULL), PN_OK);
    CU_ASSERT_EQUAL(ex(sel, 0, NULL, &r), PN_OK);
    CU_ASSERT_EQUAL(pnk_rows_columns(r), 2);
    CU_ASSERT_EQUAL(ex("DEALLOCATE ALL", 0, NULL, NULL), PN_OK);
    CU_ASSERT_EQUAL(ex(sel, 0, NULL, &r), PN_OK);
    CU_ASSERT_STRING_EQUAL(pnk_rows_value(r, 0, 1), "x");
    snprintf(sql, sizeof sql, "DROP TABLE %s", tbl);
    CU_ASSERT_EQUAL(ex(sql, 0, NULL, NULL), PN_OK);
    teardown();
}

static void
test_exec_pool_new_rejects_bad_url(void)
{
    char e[512] = "";
    pnk_db_config_t cfg = {.url = "postgresql://postgres@127.0.0.1:1/none",
                           .pool_size = 2,
                           .acquire_timeout = 0.5,
                           .connect_timeout = 2};

    CU_ASSERT_PTR_NULL(pnk_db_pool_new(&cfg, e, sizeof e));
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "cannot connect to PostgreSQL"));
    cfg.url = "postgresql://[bad";
    CU_ASSERT_PTR_NULL(pnk_db_pool_new(&cfg, e, sizeof e));
    CU_ASSERT_NOT_EQUAL(e[0], '\0');
    cfg.url = "";
    CU_ASSERT_PTR_NULL(pnk_db_pool_new(&cfg, e, sizeof e));
    cfg.url = dbt_url();
    cfg.pool_size = 0;
    CU_ASSERT_PTR_NULL(pnk_db_pool_new(&cfg, e, sizeof e));
}

void
register_exec_tests(void)
{
    CU_pSuite s = CU_add_suite("db_exec", NULL, NULL);
    CU_add_test(s, "test_exec_params_and_nulls", test_exec_params_and_nulls);
    CU_add_test(s, "test_exec_rows_json_types", test_exec_rows_json_types);
    CU_add_test(s, "test_exec_maps_errors", test_exec_maps_errors);
    CU_add_test(s, "test_exec_reprepares_stale_statements", test_exec_reprepares_stale_statements);
    CU_add_test(s, "test_exec_pool_new_rejects_bad_url", test_exec_pool_new_rejects_bad_url);
}
