/* Helpers shared by the db tests: a pool on the server named by PN_TEST_DATABASE_URL. */
#ifndef DBT_H
#define DBT_H

#include <stddef.h>

#include "../db.h"

/* The URL, or NULL after recording a CUnit failure that says how to set it. */
const char *dbt_url(void);
/* A pool on that server, or NULL after recording a failure. */
pnk_db_pool_t *dbt_pool(int size, double acquire_timeout, int statement_timeout_ms);
/* A name unique to this process and call: "<prefix>_<pid>_<n>". */
void dbt_name(char *buf, size_t n, const char *prefix);
/* Run one statement on the pool; returns the pn_err_t. */
int dbt_exec(pnk_db_pool_t *p, const char *sql);
double dbt_now(void);

#endif
