/*
 * Running statements: extended protocol with text parameters only, prepared once per session
 * and reused, results copied into the caller's arena; and the transaction verbs.
 */
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "db_internal.h"

static void
set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        (void)snprintf(err, errlen, "%s", msg);
}

static PGresult *
prepare_and_run(pnk_db_conn_t *c, const char *sql, int nparams, const char *const *params)
{
    char name[24];
    unsigned id = ++c->next_id;
    PGresult *r;

    if (id == 0) /* wrapped: 0 means "not cached" */
        id = ++c->next_id;
    (void)snprintf(name, sizeof name, "pn_%u", id);
    r = PQprepare(c->pg, name, sql, nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return r;
    PQclear(r);
    pnk_db_stmt_add(c, sql, nparams, id);
    return PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
}

static PGresult *
run(pnk_db_conn_t *c, const char *sql, int nparams, const char *const *params)
{
    char name[24];
    unsigned id = pnk_db_stmt_find(c, sql, nparams);
    PGresult *r;

    if (id == 0) {
        if (!pnk_db_stmt_room(c))
            return PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
        return prepare_and_run(c, sql, nparams, params);
    }
    (void)snprintf(name, sizeof name, "pn_%u", id);
    r = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
    if (!pnk_db_stale_statement(r))
        return r;
    /* Someone deallocated it, or DDL changed what it returns. Re-preparing is only possible
     * outside a transaction: inside one, this error has already aborted it. */
    pnk_db_stmt_forget(c, sql, nparams);
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return r;
    PNK_DEBUG("db", "re-preparing a stale statement");
    PQclear(r);
    return prepare_and_run(c, sql, nparams, params);
}

static int
copy_rows(const PGresult *res, pnk_arena_t *a, pn_rows_t **out)
{
    int nr = PQntuples(res), nc = PQnfields(res);
    size_t total = 0, cells = (size_t)nr * (size_t)nc;
    pn_rows_t *r = pnk_arena_calloc(a, 1, sizeof(*r));

    if (r == NULL)
        return PN_E_INTERNAL;
    r->nrows = nr;
    r->ncols = nc;
    r->names = pnk_arena_calloc(a, (size_t)nc + 1, sizeof(*r->names));
    r->types = pnk_arena_calloc(a, (size_t)nc + 1, sizeof(*r->types));
    r->values = pnk_arena_calloc(a, cells + 1, sizeof(*r->values));
    if (r->names == NULL || r->types == NULL || r->values == NULL)
        return PN_E_INTERNAL;
    for (int j = 0; j < nc; j++) {
        r->names[j] = pnk_arena_strdup(a, PQfname(res, j));
        r->types[j] = PQftype(res, j);
        if (r->names[j] == NULL)
            return PN_E_INTERNAL;
    }
    /* One block for every value keeps a big result to a single allocation. */
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < nc; j++)
            if (!PQgetisnull(res, i, j))
                total += (size_t)PQgetlength(res, i, j) + 1;
    char *buf = pnk_arena_alloc(a, total ? total : 1);
    if (buf == NULL)
        return PN_E_INTERNAL;
    for (int i = 0; i < nr; i++) {
        for (int j = 0; j < nc; j++) {
            if (PQgetisnull(res, i, j))
                continue;
            size_t len = (size_t)PQgetlength(res, i, j);
            memcpy(buf, PQgetvalue(res, i, j), len);
            buf[len] = '\0';
            r->values[(size_t)i * (size_t)nc + (size_t)j] = buf;
            buf += len + 1;
        }
    }
    *out = r;
    return PN_OK;
}

int
pnk_db_exec(pnk_db_conn_t *c, const char *sql, int nparams, const char *const *params,
            pnk_arena_t *arena, pn_rows_t **rows, char *err, size_t errlen)
{
    PGresult *res;
    int rc;

    if (rows)
        *rows = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (c == NULL || sql == NULL || nparams < 0 || nparams > 65535 ||
        (nparams > 0 && params == NULL) || (rows && arena == NULL)) {
        set_err(err, errlen, "database call with invalid arguments");
        return PN_E_INTERNAL;
    }
    if (c->pg == NULL || c->broken) {
        set_err(err, errlen, "database connection lost");
        return PN_E_UNAVAILABLE;
    }
    res = run(c, sql, nparams, params);
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
        rc = rows ? copy_rows(res, arena, rows) : PN_OK;
        if (rc != PN_OK) {
            PNK_ERROR("db", "out of memory copying a result of %d rows", PQntuples(res));
            set_err(err, errlen, "database result too large");
        }
        break;
    default:
        rc = pnk_db_map_error(c, res, sql, err, errlen);
        break;
    }
    PQclear(res);
    return rc;
}

/* BEGIN/COMMIT/ROLLBACK: fixed text, no parameters, not worth a prepared statement. */
static int
simple(pnk_db_conn_t *c, const char *sql, char *err, size_t errlen, bool *rolled_back)
{
    PGresult *res;
    int rc = PN_OK;

    if (c->pg == NULL || c->broken) {
        set_err(err, errlen, "database connection lost");
        return PN_E_UNAVAILABLE;
    }
    res = PQexecParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pnk_db_map_error(c, res, sql, err, errlen);
    else if (rolled_back)
        *rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
    PQclear(res);
    return rc;
}

bool
pnk_db_in_tx(const pnk_db_conn_t *c)
{
    if (c == NULL || c->pg == NULL)
        return false;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

int
pnk_db_begin(pnk_db_conn_t *c, char *err, size_t errlen)
{
    if (pnk_db_in_tx(c)) {
        PNK_ERROR("db", "begin called inside a transaction");
        set_err(err, errlen, "a transaction is already open");
        return PN_E_INTERNAL;
    }
    return simple(c, "BEGIN", err, errlen, NULL);
}

int
pnk_db_commit(pnk_db_conn_t *c, char *err, size_t errlen)
{
    bool rolled_back = false;
    int rc;

    if (c == NULL || c->pg == NULL || c->broken) {
        set_err(err, errlen, "database connection lost");
        return PN_E_UNAVAILABLE;
    }
    switch (PQtransactionStatus(c->pg)) {
    case PQTRANS_INTRANS:
        break;
    case PQTRANS_INERROR:
        /* PostgreSQL answers COMMIT of a failed transaction with a silent ROLLBACK. */
        simple(c, "ROLLBACK", NULL, 0, NULL);
        PNK_ERROR("db", "commit of a transaction that had failed; rolled back");
        set_err(err, errlen, "the transaction failed earlier and was rolled back");
        return PN_E_INTERNAL;
    default:
        PNK_ERROR("db", "commit called outside a transaction");
        set_err(err, errlen, "no transaction is open");
        return PN_E_INTERNAL;
    }
    rc = simple(c, "COMMIT", err, errlen, &rolled_back);
    if (rc == PN_OK && rolled_back) {
        set_err(err, errlen, "the transaction was rolled back");
        return PN_E_CONFLICT;
    }
    return rc;
}

int
pnk_db_rollback(pnk_db_conn_t *c, char *err, size_t errlen)
{
    if (c == NULL || c->pg == NULL || c->broken) {
        set_err(err, errlen, "database connection lost");
        return PN_E_UNAVAILABLE;
    }
    if (!pnk_db_in_tx(c))
        return PN_OK;
    int rc = simple(c, "ROLLBACK", err, errlen, NULL);
    if (rc != PN_OK)
        c->broken = true; /* a session stuck in a transaction must not be reused */
    return rc;
}
