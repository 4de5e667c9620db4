/*
 * PostgreSQL: a fixed-size connection pool, parameterised queries whose results live in an
 * arena, transactions, and error-to-code mapping. A lost server is not fatal: a broken
 * connection is reset on its next use, and callers get PN_E_UNAVAILABLE (503) until the
 * database answers again. Thread-safe.
 */
#ifndef PNK_DB_H
#define PNK_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include <powernode/types.h>

#include "../core/arena.h"

typedef struct pnk_db_config {
    const char *url;          /* libpq connection string or URI */
    int pool_size;            /* connections, opened lazily */
    double acquire_timeout;   /* seconds to wait for a free connection; then PN_E_UNAVAILABLE */
    double connect_timeout;   /* seconds for one connection attempt */
    int statement_timeout_ms; /* per statement; 0 = none */
} pnk_db_config_t;

typedef struct pnk_db_pool pnk_db_pool_t;
typedef struct pnk_db_conn pnk_db_conn_t;

/* Create the pool and open one connection to check the URL (a wrong URL is a start-up error;
 * a database that is merely down is too, since migrations must run). NULL with err. */
pnk_db_pool_t *pnk_db_pool_new(const pnk_db_config_t *cfg, char *err, size_t errlen);
void pnk_db_pool_free(pnk_db_pool_t *p);

/* Take a connection (waiting up to acquire_timeout). PN_OK or PN_E_UNAVAILABLE with err. */
int pnk_db_acquire(pnk_db_pool_t *p, pnk_db_conn_t **out, char *err, size_t errlen);
/* Give it back; an open transaction is rolled back, a broken connection is reset later. */
void pnk_db_release(pnk_db_pool_t *p, pnk_db_conn_t *c);

/*
 * Run one parameterised statement (text parameters, NULL = SQL NULL). The result, if wanted,
 * is copied into the arena as *rows. Errors: PN_E_CONFLICT (unique/foreign-key/exclusion
 * violation, serialization failure, deadlock), PN_E_INVALID (data exceptions, class 22: bad
 * uuid, out of range; also not-null and check violations), PN_E_TIMEOUT (statement or lock
 * timeout), PN_E_UNAVAILABLE (connection lost, server shutting down, class 53), PN_E_INTERNAL
 * (anything else). `err` gets a message safe to show a client for CONFLICT/INVALID
 * ("duplicate value for users_email_key") and the full server message is logged for the rest.
 */
int pnk_db_exec(pnk_db_conn_t *c, const char *sql, int nparams, const char *const *params,
                pnk_arena_t *arena, pn_rows_t **rows, char *err, size_t errlen);
int pnk_db_begin(pnk_db_conn_t *c, char *err, size_t errlen);
int pnk_db_commit(pnk_db_conn_t *c, char *err, size_t errlen);
int pnk_db_rollback(pnk_db_conn_t *c, char *err, size_t errlen);
bool pnk_db_in_tx(const pnk_db_conn_t *c);

/* Result accessors (the host API's rows_*). */
int pnk_rows_count(const pn_rows_t *r);
int pnk_rows_columns(const pn_rows_t *r);
int pnk_rows_column(const pn_rows_t *r, const char *name);
const char *pnk_rows_value(const pn_rows_t *r, int row, int col);
/* Typed JSON from the column types (int2/4/8, float, numeric as number, bool, json/jsonb
 * parsed, everything else string, NULL as null). New reference. */
json_t *pnk_rows_json(const pn_rows_t *r);

/* Pool figures for /metrics and /ready. errors_total counts failed connection attempts,
 * lost connections and statements failing with INTERNAL/TIMEOUT/UNAVAILABLE (not the
 * client's CONFLICT/INVALID). */
typedef struct pnk_db_stats {
    int size, open, in_use, waiting;
    unsigned long acquired_total, timeouts_total, errors_total;
} pnk_db_stats_t;
void pnk_db_stats(pnk_db_pool_t *p, pnk_db_stats_t *out);
/* SELECT 1 on a pooled connection; PN_OK or PN_E_UNAVAILABLE. */
int pnk_db_ping(pnk_db_pool_t *p);

/* ---- migrations ---- */

typedef struct pnk_migration_source {
    const char *owner;   /* "core" or the plugin name */
    const char *version; /* the owner's version, recorded with each file */
    const char *dir;     /* folder of NNNN_<what>.sql files, applied in name order */
} pnk_migration_source_t;

/*
 * Apply pending migrations of the sources in the given order (core first, then plugins in
 * dependency order), each file in its own transaction, under a PostgreSQL advisory lock so
 * concurrent servers never race. Applied files are recorded in pn_schema_migrations (owner,
 * name, version, sha256 checksum, applied_at). An applied file whose content changed stops
 * the run: "migration files/0002_shares.sql was changed after it was applied (checksum
 * ab12.. now cd34..); add a new migration instead". *applied counts files applied now.
 */
int pnk_db_migrate(pnk_db_pool_t *p, const pnk_migration_source_t *src, size_t n, int *applied,
                   char *err, size_t errlen);
/* Whether every file of the sources is applied (for /ready). PN_OK with *pending set. */
int pnk_db_migrations_pending(pnk_db_pool_t *p, const pnk_migration_source_t *src, size_t n,
                              bool *pending);

/* ---- ids ---- */

/* A UUIDv7 (RFC 9562): 48-bit Unix ms, then a counter so ids from this process are strictly
 * increasing even within one millisecond, then random bits. 36 chars + NUL. Thread-safe. */
void pnk_uuid_v7(char out[37]);

#endif
