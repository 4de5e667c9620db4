/* A scratch schema on PN_TEST_DATABASE_URL with the core migrations applied, for the auth
 * database tests; dropped at the end so the suite can run twice in a row. */
#ifndef PN_AUTH_TESTDB_H
#define PN_AUTH_TESTDB_H

#include "../../db/db.h"

/* The URL, or NULL after printing why the tests cannot run. */
const char *testdb_url(void);
/* Create the schema, a pool whose connections use it, and apply sql/ (the core migrations).
 * 0, or -1 after printing the reason. *applied gets the number of files applied. */
int testdb_open(int *applied);
pnk_db_pool_t *testdb_pool(void);
const char *testdb_schema(void);
/* One statement on a pooled connection; rows (if wanted) live in arena. */
int testdb_exec(const char *sql, int n, const char *const *params, pnk_arena_t *arena,
                pn_rows_t **rows);
/* The first column of the first row as an int (-1 when no row or on error). */
long testdb_scalar(const char *sql, int n, const char *const *params);
void testdb_close(void);

#endif
