/*
 * Pattern subscriptions: one thread per subscription with its own connection. Reads wait at
 * most POLL_MS so a stop request is seen quickly; errors reconnect with a growing backoff
 * and subscribe again (messages published while disconnected are lost, as with any PSUBSCRIBE).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "redis_internal.h"

#define POLL_MS 100
#define BACKOFF_MIN_S 0.1
#define BACKOFF_MAX_S 5.0
#define FIRST_WAIT_MAX_S 5.0

struct pnk_redis_sub {
    pthread_t thread;
    atomic_bool stop;
    char *pattern;
    void (*on_message)(void *ud, const char *channel, const char *msg, size_t len);
    void *ud;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool subscribed; /* the first PSUBSCRIBE was confirmed (guarded by mu) */
};

/* Sleep up to s seconds in short steps, returning early when a stop is requested. */
static void
nap(pnk_redis_sub_t *s, double secs)
{
    for (double left = secs; left > 0 && !atomic_load(&s->stop); left -= POLL_MS / 1000.0) {
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* 1 with a reply, 0 when a stop was requested, -1 on a connection error. */
static int
read_reply(pnk_redis_sub_t *s, redisContext *c, redisReply **out)
{
    for (;;) {
        void *r = NULL;
        if (redisGetReplyFromReader(c, &r) != REDIS_OK)
            return -1;
        if (r) {
            *out = r;
            return 1;
        }
        if (atomic_load(&s->stop))
            return 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int n = poll(&p, 1, POLL_MS);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && redisBufferRead(c) != REDIS_OK)
            return -1;
    }
}

static int
send_psubscribe(pnk_redis_sub_t *s, redisContext *c)
{
    const char *argv[] = {"PSUBSCRIBE", s->pattern};
    if (redisAppendCommandArgv(c, 2, argv, NULL) != REDIS_OK)
        return -1;
    int done = 0;
    for (int i = 0; i < 1000 && !done; i++)
        if (redisBufferWrite(c, &done) != REDIS_OK)
            return -1;
    return done ? 0 : -1;
}

static bool
is_str(const redisReply *r, const char *want)
{
    return r->type == REDIS_REPLY_STRING && (!want || strcmp(r->str, want) == 0);
}

/* Handle one pushed reply; the first psubscribe confirmation wakes pnk_redis_subscribe. */
static void
dispatch(pnk_redis_sub_t *s, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || !is_str(r->element[0], NULL))
        return;
    if (strcmp(r->element[0]->str, "psubscribe") == 0) {
        pthread_mutex_lock(&s->mu);
        s->subscribed = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    } else if (r->elements == 4 && is_str(r->element[0], "pmessage") &&
               is_str(r->element[2], NULL) && is_str(r->element[3], NULL)) {
        s->on_message(s->ud, r->element[2]->str, r->element[3]->str, r->element[3]->len);
    }
}

static void *
sub_main(void *arg)
{
    pnk_redis_sub_t *s = arg;
    double backoff = BACKOFF_MIN_S;
    while (!atomic_load(&s->stop)) {
        char err[256] = "";
        redisContext *c =
            pnk_redis_connect(pnk_redis_endpoint_get(PNK_REDIS_CACHE), err, sizeof err);
        if (c && send_psubscribe(s, c) != 0)
            pnk_redis_errf(err, sizeof err, "%s", c->errstr);
        else if (c) {
            redisReply *r = NULL;
            int got;
            while ((got = read_reply(s, c, &r)) == 1) {
                backoff = BACKOFF_MIN_S;
                dispatch(s, r);
                freeReplyObject(r);
            }
            if (got == 0) {
                redisFree(c);
                break;
            }
            pnk_redis_errf(err, sizeof err, "%s", c->errstr);
        }
        if (c)
            redisFree(c);
        PNK_WARN("redis", "subscription lost pattern=%s error=\"%s\" retry_in=%.1fs", s->pattern,
                 err, backoff);
        nap(s, backoff);
        backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
    }
    pnk_redis_thread_done(); /* in case on_message used this thread's connections */
    return NULL;
}

pnk_redis_sub_t *
pnk_redis_subscribe(const char *pattern,
                    void (*on_message)(void *ud, const char *channel, const char *msg, size_t len),
                    void *ud)
{
    if (!pattern || !*pattern || !on_message || !pnk_redis_configured())
        return NULL;
    pnk_redis_sub_t *s = calloc(1, sizeof *s);
    if (!s || !(s->pattern = strdup(pattern))) {
        free(s);
        return NULL;
    }
    s->on_message = on_message;
    s->ud = ud;
    atomic_init(&s->stop, false);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->thread, NULL, sub_main, s) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s->pattern);
        free(s);
        return NULL;
    }
    /* Wait (bounded) for the first subscription so messages published after we return are
     * delivered; when Redis is down the thread keeps trying in the background. */
    double wait = pnk_redis_endpoint_get(PNK_REDIS_CACHE)->timeout;
    if (wait > FIRST_WAIT_MAX_S)
        wait = FIRST_WAIT_MAX_S;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    long ns = dl.tv_nsec + (long)((wait - (double)(long)wait) * 1e9);
    dl.tv_sec += (time_t)wait + ns / 1000000000L;
    dl.tv_nsec = ns % 1000000000L;
    pthread_mutex_lock(&s->mu);
    while (!s->subscribed && pthread_cond_timedwait(&s->cv, &s->mu, &dl) == 0)
        ;
    pthread_mutex_unlock(&s->mu);
    return s;
}

void
pnk_redis_unsubscribe(pnk_redis_sub_t *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->pattern);
    free(s);
}
