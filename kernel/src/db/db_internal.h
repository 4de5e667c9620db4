/*
 * What the db area's files share and nobody else sees: the pool and connection layout, the
 * result layout behind pn_rows_t, the statement cache and the SQLSTATE mapping.
 */
#ifndef PNK_DB_INTERNAL_H
#define PNK_DB_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>

#include "db.h"

/* A result copied out of libpq into an arena; no libpq object outlives pnk_db_exec. */
struct pn_rows {
    int nrows, ncols;
    const char **names;  /* ncols */
    unsigned *types;     /* ncols type OIDs */
    const char **values; /* nrows * ncols, row-major; NULL is SQL NULL */
};

typedef struct pnk_db_stmt pnk_db_stmt_t;

struct pnk_db_conn {
    pnk_db_pool_t *pool;
    PGconn *pg;  /* NULL until opened, and again after being found broken */
    bool broken; /* lost or unusable: closed on release, reopened on the next acquire */
    bool in_use;
    /* Prepared statements of this session, keyed by SQL text (stmtcache.c). */
    pnk_db_stmt_t **buckets;
    unsigned nstmts, next_id;
};

struct pnk_db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a connection came back */
    char *url;
    int size, statement_timeout_ms, connect_timeout_s;
    double acquire_timeout;
    pnk_db_conn_t *conns;
    int in_use, waiting;
    bool down;        /* the last connection attempt failed */
    double last_fail; /* monotonic seconds of that attempt */
    atomic_int open;
    atomic_ulong acquired_total, timeouts_total, errors_total;
};

double pnk_db_now(void);

/* stmtcache.c: the name of the prepared statement for (sql, nparams), or 0 when not cached. */
unsigned pnk_db_stmt_find(pnk_db_conn_t *c, const char *sql, int nparams);
/* Remember a statement prepared under pn_<id>. False when the cache is full or memory ran
 * out (the statement is then simply not remembered). */
bool pnk_db_stmt_add(pnk_db_conn_t *c, const char *sql, int nparams, unsigned id);
/* Whether another statement may be cached; when not, statements run unnamed. */
bool pnk_db_stmt_room(const pnk_db_conn_t *c);
void pnk_db_stmt_forget(pnk_db_conn_t *c, const char *sql, int nparams);
/* Drop every entry (the session is gone) and free the table. */
void pnk_db_stmt_clear(pnk_db_conn_t *c);

/* errmap.c: turn a failed result (NULL = no result at all) into a code and a client-safe
 * message, log what the client must not see, and mark the connection broken when it was
 * lost. `sql` is only logged (truncated). */
int pnk_db_map_error(pnk_db_conn_t *c, const PGresult *res, const char *sql, char *err,
                     size_t errlen);
/* True for the errors that mean "the prepared statement is stale; prepare it again". */
bool pnk_db_stale_statement(const PGresult *res);

/* pool.c: close the session of a connection the caller holds (it reopens on next acquire). */
void pnk_db_conn_close(pnk_db_conn_t *c);

#endif
