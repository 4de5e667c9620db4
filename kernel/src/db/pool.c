/*
 * The connection pool: a fixed number of slots opened lazily, handed out under a mutex, with
 * broken sessions replaced on their next use and fast failure while the server is down.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "db_internal.h"

/* After a failed connection attempt, requests fail at once for this long instead of each
 * one trying (and maybe waiting connect_timeout) again. */
#define RETRY_AFTER 1.0

double
pnk_db_now(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        (void)snprintf(err, errlen, "%s", msg);
}

/* libpq messages end with a newline and may span lines; keep the first line. */
static void
first_line(char *dst, size_t n, const char *src)
{
    size_t k = 0;

    for (; src && src[k] && src[k] != '\n' && k + 1 < n; k++)
        dst[k] = src[k];
    if (n)
        dst[k] = '\0';
}

static void
on_notice(void *arg, const char *message)
{
    char line[512];

    (void)arg;
    first_line(line, sizeof line, message);
    PNK_DEBUG("db", "server notice: %s", line);
}

void
pnk_db_conn_close(pnk_db_conn_t *c)
{
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
        atomic_fetch_sub(&c->pool->open, 1);
    }
    pnk_db_stmt_clear(c);
    c->broken = false;
}

static void
note_attempt(pnk_db_pool_t *p, bool ok)
{
    pthread_mutex_lock(&p->mu);
    p->down = !ok;
    if (!ok)
        p->last_fail = pnk_db_now();
    pthread_mutex_unlock(&p->mu);
}

/* Open the session of slot c. The caller holds the slot but not the mutex. */
static int
open_conn(pnk_db_pool_t *p, pnk_db_conn_t *c, char *err, size_t errlen)
{
    char timeout[16], msg[512];
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {p->url, timeout, "powernode", NULL};
    PGconn *pg;

    (void)snprintf(timeout, sizeof timeout, "%d", p->connect_timeout_s);
    /* expand_dbname: the url may be a URI or a key=value string; the keys after it win. */
    pg = PQconnectdbParams(keys, vals, 1);
    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        first_line(msg, sizeof msg, pg ? PQerrorMessage(pg) : "out of memory");
        PQfinish(pg);
        atomic_fetch_add(&p->errors_total, 1);
        note_attempt(p, false);
        PNK_WARN("db", "cannot connect to PostgreSQL: %s", msg);
        if (err && errlen)
            (void)snprintf(err, errlen, "cannot connect to PostgreSQL: %s", msg);
        return PN_E_UNAVAILABLE;
    }
    PQsetNoticeProcessor(pg, on_notice, NULL);
    if (p->statement_timeout_ms > 0) {
        char ms[16];
        const char *params[] = {ms};
        (void)snprintf(ms, sizeof ms, "%d", p->statement_timeout_ms);
        PGresult *r = PQexecParams(pg, "SELECT set_config('statement_timeout', $1, false)", 1, NULL,
                                   params, NULL, NULL, 0);
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            first_line(msg, sizeof msg, PQerrorMessage(pg));
        PQclear(r);
        if (!ok) {
            PQfinish(pg);
            atomic_fetch_add(&p->errors_total, 1);
            note_attempt(p, false);
            PNK_WARN("db", "cannot set statement_timeout on a new connection: %s", msg);
            set_err(err, errlen, "database unavailable");
            return PN_E_UNAVAILABLE;
        }
    }
    note_attempt(p, true);
    c->pg = pg;
    c->broken = false;
    atomic_fetch_add(&p->open, 1);
    return PN_OK;
}

/* An idle session should have nothing to read: if the socket is readable, the server has
 * said goodbye (shutdown, crash, terminated backend) or closed it. */
static bool
looks_alive(pnk_db_conn_t *c)
{
    struct pollfd pfd;

    if (c->broken || PQstatus(c->pg) != CONNECTION_OK)
        return false;
    pfd.fd = PQsocket(c->pg);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (pfd.fd < 0)
        return false;
    return poll(&pfd, 1, 0) == 0;
}

pnk_db_pool_t *
pnk_db_pool_new(const pnk_db_config_t *cfg, char *err, size_t errlen)
{
    pnk_db_pool_t *p;
    pthread_condattr_t ca;

    if (cfg == NULL || cfg->url == NULL || cfg->url[0] == '\0') {
        set_err(err, errlen, "database url is empty");
        return NULL;
    }
    if (cfg->pool_size < 1 || cfg->pool_size > 10000) {
        if (err && errlen)
            (void)snprintf(err, errlen, "database pool_size %d is out of range (1..10000)",
                           cfg->pool_size);
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    p->url = strdup(cfg->url);
    p->conns = calloc((size_t)cfg->pool_size, sizeof(*p->conns));
    if (p->url == NULL || p->conns == NULL) {
        free(p->url);
        free(p->conns);
        free(p);
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    p->size = cfg->pool_size;
    p->acquire_timeout = cfg->acquire_timeout > 0 ? cfg->acquire_timeout : 0;
    /* libpq waits forever on 0, and counts whole seconds (a 1 becomes 2). */
    if (cfg->connect_timeout <= 0)
        p->connect_timeout_s = 5;
    else if (cfg->connect_timeout >= 3600)
        p->connect_timeout_s = 3600;
    else
        p->connect_timeout_s =
            (int)cfg->connect_timeout + ((double)(int)cfg->connect_timeout < cfg->connect_timeout);
    p->statement_timeout_ms = cfg->statement_timeout_ms > 0 ? cfg->statement_timeout_ms : 0;
    for (int i = 0; i < p->size; i++)
        p->conns[i].pool = p;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (open_conn(p, &p->conns[0], err, errlen) != PN_OK) {
        pnk_db_pool_free(p);
        return NULL;
    }
    return p;
}

void
pnk_db_pool_free(pnk_db_pool_t *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->size; i++)
        pnk_db_conn_close(&p->conns[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->conns);
    free(p->url);
    free(p);
}

/* A free slot, preferring one with an open session. Called with the mutex held. */
static pnk_db_conn_t *
pick(pnk_db_pool_t *p)
{
    pnk_db_conn_t *unopened = NULL;

    for (int i = 0; i < p->size; i++) {
        pnk_db_conn_t *c = &p->conns[i];
        if (c->in_use)
            continue;
        if (c->pg && !c->broken)
            return c;
        if (unopened == NULL)
            unopened = c;
    }
    return unopened;
}

static void
give_back(pnk_db_pool_t *p, pnk_db_conn_t *c)
{
    pthread_mutex_lock(&p->mu);
    c->in_use = false;
    p->in_use--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int
pnk_db_acquire(pnk_db_pool_t *p, pnk_db_conn_t **out, char *err, size_t errlen)
{
    double deadline = pnk_db_now() + p->acquire_timeout;
    struct timespec until;
    pnk_db_conn_t *c;

    *out = NULL;
    until.tv_sec = (time_t)deadline;
    until.tv_nsec = (long)((deadline - (double)until.tv_sec) * 1e9);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        c = pick(p);
        if (c != NULL)
            break;
        if (pnk_db_now() >= deadline) {
            pthread_mutex_unlock(&p->mu);
            atomic_fetch_add(&p->timeouts_total, 1);
            if (err && errlen)
                (void)snprintf(err, errlen,
                               "no database connection free after %.3g s (pool of %d in use)",
                               p->acquire_timeout, p->size);
            return PN_E_UNAVAILABLE;
        }
        p->waiting++;
        int rc = pthread_cond_timedwait(&p->cv, &p->mu, &until);
        p->waiting--;
        if (rc != 0 && rc != ETIMEDOUT && rc != EINTR) {
            pthread_mutex_unlock(&p->mu);
            set_err(err, errlen, "database pool wait failed");
            return PN_E_UNAVAILABLE;
        }
    }
    bool fresh = c->pg == NULL || c->broken;
    if (fresh && p->down && pnk_db_now() - p->last_fail < RETRY_AFTER) {
        /* The slot stays free: pass the wake-up on so other waiters fail fast too. */
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        set_err(err, errlen, "database unavailable (the last connection attempt failed)");
        return PN_E_UNAVAILABLE;
    }
    c->in_use = true;
    p->in_use++;
    pthread_mutex_unlock(&p->mu);

    if (!fresh && !looks_alive(c)) {
        PNK_INFO("db", "dropping a pooled connection the server closed");
        pnk_db_conn_close(c);
        fresh = true;
    } else if (fresh && c->pg) {
        pnk_db_conn_close(c);
    }
    if (fresh) {
        int rc = open_conn(p, c, err, errlen);
        if (rc != PN_OK) {
            give_back(p, c);
            return rc;
        }
    }
    atomic_fetch_add(&p->acquired_total, 1);
    *out = c;
    return PN_OK;
}

void
pnk_db_release(pnk_db_pool_t *p, pnk_db_conn_t *c)
{
    if (p == NULL || c == NULL)
        return;
    if (c->pg && !c->broken) {
        PGTransactionStatusType ts = PQtransactionStatus(c->pg);
        if (PQstatus(c->pg) != CONNECTION_OK || ts == PQTRANS_ACTIVE || ts == PQTRANS_UNKNOWN) {
            c->broken = true;
        } else if (ts != PQTRANS_IDLE) {
            /* The next user must start clean; a session that cannot roll back is dropped. */
            PGresult *r = PQexec(c->pg, "ROLLBACK");
            if (PQresultStatus(r) != PGRES_COMMAND_OK ||
                PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
                PNK_WARN("db", "rollback on release failed; closing the connection");
                c->broken = true;
            }
            PQclear(r);
        }
    }
    if (c->broken)
        pnk_db_conn_close(c);
    give_back(p, c);
}

void
pnk_db_stats(pnk_db_pool_t *p, pnk_db_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->mu);
    out->size = p->size;
    out->in_use = p->in_use;
    out->waiting = p->waiting;
    pthread_mutex_unlock(&p->mu);
    out->open = atomic_load(&p->open);
    out->acquired_total = atomic_load(&p->acquired_total);
    out->timeouts_total = atomic_load(&p->timeouts_total);
    out->errors_total = atomic_load(&p->errors_total);
}

int
pnk_db_ping(pnk_db_pool_t *p)
{
    pnk_db_conn_t *c;
    char err[256];
    int rc;

    if (pnk_db_acquire(p, &c, err, sizeof err) != PN_OK)
        return PN_E_UNAVAILABLE;
    rc = pnk_db_exec(c, "SELECT 1", 0, NULL, NULL, NULL, err, sizeof err);
    pnk_db_release(p, c);
    return rc == PN_OK ? PN_OK : PN_E_UNAVAILABLE;
}
