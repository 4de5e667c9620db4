/*
 * Connections: the two configured endpoints, each thread's own lazily opened contexts that
 * are dropped on any I/O error and reopened by the next call, and the registry that lets
 * shutdown close what threads left behind. Commands and replies live in redis_cmd.c.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "redis_internal.h"

/* After a failed connect a thread waits this long before trying again, so a down Redis
 * costs each call one clock read instead of a connect. */
#define RETRY_GAP_S 0.2

typedef struct tconns {
    redisContext *ctx[2];
    double retry_at[2]; /* monotonic seconds; no connect attempt before this */
    bool down[2];       /* the last attempt failed: later failures are logged at debug */
    char lasterr[2][160];
    struct tconns *prev, *next;
} tconns_t;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static tconns_t *reg_head;
/* Bumped by shutdown: a thread whose slot is from an older generation lost it. */
static atomic_uint generation;
static atomic_bool configured;
static pnk_redis_endpoint_t endpoints[2];

static _Thread_local tconns_t *mine;
static _Thread_local unsigned mine_gen;
static _Thread_local unsigned long nconnects;

static double
mono_now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timeval
to_tv(double s)
{
    struct timeval tv = {.tv_sec = (time_t)s};
    tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
    return tv;
}

unsigned long
pnk_redis_thread_connects(void)
{
    return nconnects;
}

const pnk_redis_endpoint_t *
pnk_redis_endpoint_get(pnk_redis_target_t which)
{
    return &endpoints[which == PNK_REDIS_QUEUE ? 1 : 0];
}

/* AUTH or SELECT during connect: PN_OK, or a message naming the step. */
static int
login_step(redisContext *c, const pnk_redis_endpoint_t *ep, int argc, const char **argv,
           const char *what, char *err, size_t errlen)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r) {
        pnk_redis_errf(err, errlen, "redis %s: %s: %s", ep->where, what, c->errstr);
        return PN_E_UNAVAILABLE;
    }
    int rc = PN_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        /* Redis never echoes the password in these errors. */
        pnk_redis_errf(err, errlen, "redis %s: %s failed: %s", ep->where, what, r->str);
        rc = PN_E_UNAVAILABLE;
    }
    freeReplyObject(r);
    return rc;
}

redisContext *
pnk_redis_connect(const pnk_redis_endpoint_t *ep, char *err, size_t errlen)
{
    struct timeval tv = to_tv(ep->timeout);
    redisContext *c = ep->path[0] ? redisConnectUnixWithTimeout(ep->path, tv)
                                  : redisConnectWithTimeout(ep->host, ep->port, tv);
    if (!c) {
        pnk_redis_errf(err, errlen, "redis %s: out of memory", ep->where);
        return NULL;
    }
    if (c->err) {
        pnk_redis_errf(err, errlen, "redis %s: %s", ep->where, c->errstr);
        redisFree(c);
        return NULL;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        pnk_redis_errf(err, errlen, "redis %s: cannot set the timeout", ep->where);
        redisFree(c);
        return NULL;
    }
    if (!ep->path[0])
        (void)redisEnableKeepAlive(c);
    if (ep->pass[0]) {
        const char *a[3] = {"AUTH", ep->user[0] ? ep->user : ep->pass, ep->pass};
        if (login_step(c, ep, ep->user[0] ? 3 : 2, a, "AUTH", err, errlen) != PN_OK) {
            redisFree(c);
            return NULL;
        }
    }
    if (ep->db != 0) {
        char db[16];
        (void)snprintf(db, sizeof db, "%d", ep->db);
        const char *a[2] = {"SELECT", db};
        if (login_step(c, ep, 2, a, "SELECT", err, errlen) != PN_OK) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

static tconns_t *
thread_slot(void)
{
    if (mine && mine_gen == atomic_load(&generation))
        return mine;
    tconns_t *tc = calloc(1, sizeof *tc);
    if (!tc)
        return NULL;
    pthread_mutex_lock(&reg_mu);
    tc->next = reg_head;
    if (reg_head)
        reg_head->prev = tc;
    reg_head = tc;
    mine_gen = atomic_load(&generation);
    pthread_mutex_unlock(&reg_mu);
    mine = tc;
    return tc;
}

/* True when the idle connection has something to read: with no command outstanding that
 * can only be the server closing it (restart, timeout, CLIENT KILL). */
static bool
closed_by_peer(const redisContext *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    return poll(&p, 1, 0) != 0;
}

static int
thread_ctx(pnk_redis_target_t which, redisContext **out, char *err, size_t errlen)
{
    int w = which == PNK_REDIS_QUEUE ? 1 : 0;
    if (!atomic_load(&configured)) {
        pnk_redis_errf(err, errlen, "redis is not initialised");
        return PN_E_UNAVAILABLE;
    }
    tconns_t *tc = thread_slot();
    if (!tc) {
        pnk_redis_errf(err, errlen, "out of memory");
        return PN_E_INTERNAL;
    }
    if (tc->ctx[w] && closed_by_peer(tc->ctx[w])) {
        redisFree(tc->ctx[w]);
        tc->ctx[w] = NULL;
    }
    if (!tc->ctx[w]) {
        double now = mono_now();
        if (now < tc->retry_at[w]) {
            pnk_redis_errf(err, errlen, "%s", tc->lasterr[w]);
            return PN_E_UNAVAILABLE;
        }
        nconnects++;
        tc->ctx[w] = pnk_redis_connect(&endpoints[w], tc->lasterr[w], sizeof tc->lasterr[w]);
        if (!tc->ctx[w]) {
            tc->retry_at[w] = now + RETRY_GAP_S;
            pnk_log(tc->down[w] ? PNK_LOG_DEBUG : PNK_LOG_WARN, "redis", "connect failed: %s",
                    tc->lasterr[w]);
            tc->down[w] = true;
            pnk_redis_errf(err, errlen, "%s", tc->lasterr[w]);
            return PN_E_UNAVAILABLE;
        }
        if (tc->down[w])
            PNK_INFO("redis", "reconnected to=%s", endpoints[w].where);
        tc->down[w] = false;
    }
    *out = tc->ctx[w];
    return PN_OK;
}

/* The context failed mid-command: close it so the next call reconnects at once. */
static int
drop_ctx(pnk_redis_target_t which, int saved_errno, char *err, size_t errlen)
{
    int w = which == PNK_REDIS_QUEUE ? 1 : 0;
    redisContext *c = mine->ctx[w];
    bool timed_out =
        c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
    if (timed_out)
        pnk_redis_errf(err, errlen, "redis %s: no reply within %.3g s", endpoints[w].where,
                       endpoints[w].timeout);
    else
        pnk_redis_errf(err, errlen, "redis %s: %s", endpoints[w].where, c->errstr);
    PNK_WARN("redis", "connection lost to=%s error=\"%s\"", endpoints[w].where, c->errstr);
    redisFree(c);
    mine->ctx[w] = NULL;
    mine->retry_at[w] = 0;
    return timed_out ? PN_E_TIMEOUT : PN_E_UNAVAILABLE;
}

int
pnk_redis_pipeline(pnk_redis_target_t which, size_t n, const pnk_redis_cmd_t *cmds,
                   redisReply **replies, char *err, size_t errlen)
{
    redisContext *c = NULL;
    int rc = thread_ctx(which, &c, err, errlen);
    if (rc != PN_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        /* hiredis wants a non-const array of pointers; copy ours rather than cast. */
        const char *small[16];
        const char **v = small;
        if (cmds[i].argc > 16 && !(v = malloc(sizeof *v * (size_t)cmds[i].argc))) {
            pnk_redis_errf(err, errlen, "out of memory");
            return PN_E_INTERNAL; /* nothing was sent yet for this command; drop the rest */
        }
        for (int j = 0; j < cmds[i].argc; j++)
            v[j] = cmds[i].argv[j];
        int ok = redisAppendCommandArgv(c, cmds[i].argc, v, cmds[i].argvlen);
        if (v != small)
            free(v);
        if (ok != REDIS_OK)
            return drop_ctx(which, errno, err, errlen);
    }
    for (size_t i = 0; i < n; i++) {
        void *r = NULL;
        if (redisGetReply(c, &r) != REDIS_OK) {
            int e = errno;
            for (size_t j = 0; j < i; j++) {
                freeReplyObject(replies[j]);
                replies[j] = NULL;
            }
            return drop_ctx(which, e, err, errlen);
        }
        replies[i] = r;
    }
    return PN_OK;
}

static void
free_slot(tconns_t *tc)
{
    for (int w = 0; w < 2; w++)
        if (tc->ctx[w])
            redisFree(tc->ctx[w]);
    free(tc);
}

void
pnk_redis_thread_done(void)
{
    if (!mine)
        return;
    pthread_mutex_lock(&reg_mu);
    if (mine_gen == atomic_load(&generation)) {
        if (mine->prev)
            mine->prev->next = mine->next;
        else
            reg_head = mine->next;
        if (mine->next)
            mine->next->prev = mine->prev;
        free_slot(mine);
    }
    pthread_mutex_unlock(&reg_mu);
    mine = NULL;
}

void
pnk_redis_shutdown(void)
{
    pthread_mutex_lock(&reg_mu);
    while (reg_head) {
        tconns_t *tc = reg_head;
        reg_head = tc->next;
        free_slot(tc);
    }
    atomic_fetch_add(&generation, 1);
    atomic_store(&configured, false);
    memset(endpoints, 0, sizeof endpoints);
    pthread_mutex_unlock(&reg_mu);
    mine = NULL;
}

void
pnk_redis_set_endpoints(const pnk_redis_endpoint_t *cache, const pnk_redis_endpoint_t *queue)
{
    endpoints[0] = *cache;
    endpoints[1] = *queue;
    atomic_store(&configured, true);
}

bool
pnk_redis_configured(void)
{
    return atomic_load(&configured);
}
