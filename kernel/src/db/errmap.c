/*
 * SQLSTATE to pn_err_t, with a message a client may see. Server messages can quote the
 * values that were bound, so the client gets names (constraint, column, type) and the log
 * gets the server's wording only for errors that are ours, never the DETAIL line.
 */
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "db_internal.h"

static const char *
field(const PGresult *res, int code)
{
    const char *s = res ? PQresultErrorField(res, code) : NULL;
    return s ? s : "";
}

static bool
starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
pnk_db_stale_statement(const PGresult *res)
{
    const char *state = field(res, PG_DIAG_SQLSTATE);

    if (strcmp(state, "26000") == 0) /* prepared statement does not exist */
        return true;
    return strcmp(state, "0A000") == 0 &&
           starts(field(res, PG_DIAG_MESSAGE_PRIMARY), "cached plan must not change");
}

/* "invalid input syntax for type uuid: \"x\"" -> "invalid input syntax for type uuid": the
 * wording up to where a quoted value would start. */
static void
without_value(char *dst, size_t n, const char *state, const char *msg)
{
    size_t k = strcspn(msg, ":\"");

    while (k > 0 && msg[k - 1] == ' ')
        k--;
    if (k < 10) { /* "value \"9999\" is out of range..." leaves nothing useful */
        (void)snprintf(dst, n, "%s",
                       strcmp(state, "22003") == 0 ? "value out of range" : "invalid value");
        return;
    }
    (void)snprintf(dst, n, "%.*s", (int)k, msg);
}

int
pnk_db_map_error(pnk_db_conn_t *c, const PGresult *res, const char *sql, char *err, size_t errlen)
{
    char buf[256];
    const char *state = field(res, PG_DIAG_SQLSTATE);
    const char *primary = field(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *constraint = field(res, PG_DIAG_CONSTRAINT_NAME);
    const char *msg = "database error";
    int rc = PN_E_INTERNAL;

    if (res == NULL || c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK ||
        strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0) {
        const char *why = primary[0] ? primary : (c->pg ? PQerrorMessage(c->pg) : "");
        size_t k = strcspn(why, "\n");
        c->broken = true;
        atomic_fetch_add(&c->pool->errors_total, 1);
        PNK_WARN("db", "connection lost sqlstate=%s error=\"%.*s\"", state[0] ? state : "-",
                 (int)(k < 300 ? k : 300), why);
        if (err && errlen)
            (void)snprintf(err, errlen, "database unavailable");
        return PN_E_UNAVAILABLE;
    }

    if (strcmp(state, "23505") == 0) {
        rc = PN_E_CONFLICT;
        (void)snprintf(buf, sizeof buf, "duplicate value for %s",
                       constraint[0] ? constraint : "a key");
        msg = buf;
    } else if (strcmp(state, "23503") == 0) {
        rc = PN_E_CONFLICT;
        (void)snprintf(buf, sizeof buf, "%s (%s)",
                       starts(primary, "update or delete") ? "row is still referenced"
                                                           : "referenced row does not exist",
                       constraint[0] ? constraint : "foreign key");
        msg = buf;
    } else if (strcmp(state, "23P01") == 0) {
        rc = PN_E_CONFLICT;
        (void)snprintf(buf, sizeof buf, "conflicting value for %s",
                       constraint[0] ? constraint : "an exclusion constraint");
        msg = buf;
    } else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
        /* Serialization failure and deadlock: the transaction lost a race; a retry may win. */
        rc = PN_E_CONFLICT;
        msg = "concurrent update; try again";
    } else if (strcmp(state, "23502") == 0) {
        rc = PN_E_INVALID;
        const char *col = field(res, PG_DIAG_COLUMN_NAME);
        (void)snprintf(buf, sizeof buf, "missing value for %s", col[0] ? col : "a required column");
        msg = buf;
    } else if (strcmp(state, "23514") == 0) {
        rc = PN_E_INVALID;
        (void)snprintf(buf, sizeof buf, "value violates %s",
                       constraint[0] ? constraint : "a check");
        msg = buf;
    } else if (starts(state, "22")) {
        rc = PN_E_INVALID;
        without_value(buf, sizeof buf, state, primary);
        msg = buf;
    } else if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0) {
        /* statement_timeout (query_canceled) and lock_timeout (lock_not_available). */
        rc = PN_E_TIMEOUT;
        msg = "database statement timed out";
    } else if (starts(state, "53")) {
        rc = PN_E_UNAVAILABLE; /* too many connections, out of memory or disk */
        msg = "database unavailable";
    }

    if (rc == PN_E_CONFLICT || rc == PN_E_INVALID) {
        PNK_DEBUG("db", "query refused sqlstate=%s error=\"%s\"", state, msg);
    } else {
        const char *text = primary[0] ? primary : PQerrorMessage(c->pg);
        size_t k = strcspn(text, "\n");
        atomic_fetch_add(&c->pool->errors_total, 1);
        PNK_ERROR("db", "query failed sqlstate=%s error=\"%.*s\" sql=\"%.200s\"",
                  state[0] ? state : "-", (int)(k < 500 ? k : 500), text, sql ? sql : "");
    }
    if (err && errlen)
        (void)snprintf(err, errlen, "%s", msg);
    return rc;
}
