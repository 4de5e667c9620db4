/*
 * Streaming responses: writers on any thread frame and queue bytes under the stream's mutex
 * and wake the loop, which moves them to the connection's output buffer. The stream is shared
 * by its connection and its owner and freed when both have let go.
 */
#include "http_internal.h"

#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <powernode/types.h>

#include "../core/log.h"

#define DEFAULT_MAX_PENDING PN_KIB(256)
/* The kernel's send buffer for a stream socket (Linux doubles it). Autotuning would let the
 * kernel hold megabytes for a client that stopped reading before our own cap ever sees it. */
#define STREAM_SNDBUF PN_KIB(32)

struct pnk_http_stream {
    pthread_mutex_t mu;
    int refs;                 /* the connection's and the owner's (under mu) */
    pnk_http_conn_t *c;       /* NULL once the stream has ended (written under mu, by the loop) */
    struct evbuffer *pending; /* framed bytes not yet in the output buffer (under mu) */
    _Atomic size_t out_len;   /* the output buffer's length, kept by the loop */
    size_t max_pending;
    bool chunked;
    bool over;    /* a write would have passed max_pending: drop (under mu) */
    bool closing; /* the owner closed: flush and end (under mu) */
    bool kicked;  /* kick is already active (under mu) */
    struct event *kick;
    struct evbuffer_cb_entry *out_cb; /* loop only */
    bool live;                        /* the head went out (loop only) */
    bool no_body;                     /* a HEAD request (loop only) */
    void (*on_close)(void *ud);
    void *ud;
    /* pnk_http_stream_wait: writers waiting for room, woken by the loop as the client drains.
     * A semaphore, not a condition variable, because the loop posts from an evbuffer callback
     * that may run under mu. */
    _Atomic int waiters;
    sem_t room;
};

static void
release(pnk_http_stream_t *st)
{
    int left;

    pthread_mutex_lock(&st->mu);
    left = --st->refs;
    pthread_mutex_unlock(&st->mu);
    if (left > 0)
        return;
    evbuffer_free(st->pending);
    pthread_mutex_destroy(&st->mu);
    sem_destroy(&st->room);
    free(st);
}

/* Under mu, with st->c set. */
static void
wake(pnk_http_stream_t *st)
{
    if (!st->kicked) {
        st->kicked = true;
        event_active(st->kick, EV_READ, 0);
    }
}

/* Wake one waiting writer (at most one post outstanding: the waiter re-checks anyway). */
static void
notify(pnk_http_stream_t *st)
{
    int v = 0;

    if (atomic_load(&st->waiters) > 0 && sem_getvalue(&st->room, &v) == 0 && v == 0)
        sem_post(&st->room);
}

static void
on_out(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
    pnk_http_stream_t *st = arg;

    (void)info;
    atomic_store(&st->out_len, evbuffer_get_length(b));
    notify(st);
}

/* Loop: pending -> output. */
static void
move(pnk_http_conn_t *c, pnk_http_stream_t *st)
{
    pthread_mutex_lock(&st->mu);
    if (evbuffer_get_length(st->pending))
        evbuffer_add_buffer(bufferevent_get_output(c->bev), st->pending);
    pthread_mutex_unlock(&st->mu);
}

static void
drop(pnk_http_conn_t *c)
{
    STAT_ADD(c->s, streams_dropped, 1);
    PNK_INFO("http", "stream dropped: client not keeping up peer=%s", c->peer);
    pnk_http_conn_close(c); /* ends the stream through finish_request */
}

/* Loop: writers asked for a flush, or the owner closed. st may be freed by drop or end, so
 * nothing touches it after those. */
static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
    pnk_http_stream_t *st = arg;
    pnk_http_conn_t *c;
    bool over, closing;

    (void)fd;
    (void)what;
    pthread_mutex_lock(&st->mu);
    c = st->c;
    st->kicked = false;
    over = st->over;
    closing = st->closing;
    pthread_mutex_unlock(&st->mu);
    if (c == NULL || !st->live) /* the handler is still running: begin will look */
        return;
    if (over) {
        drop(c);
        return;
    }
    move(c, st);
    if (closing)
        pnk_http_stream_end(c, true);
}

pnk_http_stream_t *
pnk_http_stream_start(pnk_http_request_t *req, pnk_http_response_t *resp, size_t max_pending,
                      void (*on_close)(void *ud), void *ud)
{
    pnk_http_conn_t *c = req->conn_;
    pnk_http_stream_t *st;

    if (c == NULL || c->stream || resp != &c->resp || on_close == NULL)
        return NULL;
    if ((st = calloc(1, sizeof(*st))) == NULL)
        return NULL;
    st->pending = evbuffer_new();
    st->kick = event_new(c->s->base, -1, 0, on_kick, st);
    if (st->pending == NULL || st->kick == NULL) {
        if (st->pending)
            evbuffer_free(st->pending);
        if (st->kick)
            event_free(st->kick);
        free(st);
        return NULL;
    }
    pthread_mutex_init(&st->mu, NULL);
    sem_init(&st->room, 0, 0);
    st->refs = 2;
    st->c = c;
    st->max_pending = max_pending ? max_pending : DEFAULT_MAX_PENDING;
    st->chunked = req->http_minor >= 1;
    st->on_close = on_close;
    st->ud = ud;
    resp->close = true;
    c->stream = st; /* read by the loop after the pool hands the job back */
    return st;
}

int
pnk_http_stream_write(pnk_http_stream_t *st, const void *data, size_t len)
{
    int rc = 0;

    if (st == NULL)
        return -1;
    pthread_mutex_lock(&st->mu);
    if (st->c == NULL || st->over || st->closing) {
        rc = -1;
    } else if (len > 0) {
        size_t frame = st->chunked ? len + 20 : len;
        size_t queued = atomic_load_explicit(&st->out_len, memory_order_relaxed) +
                        evbuffer_get_length(st->pending);
        if (queued + frame > st->max_pending ||
            (st->chunked && evbuffer_add_printf(st->pending, "%zx\r\n", len) < 0) ||
            evbuffer_add(st->pending, data, len) != 0 ||
            (st->chunked && evbuffer_add(st->pending, "\r\n", 2) != 0)) {
            st->over = true;
            rc = -1;
        }
        wake(st);
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* 1: len more bytes fit; -1: ended; 0: not yet. */
static int
fits(pnk_http_stream_t *st, size_t len)
{
    int r;

    pthread_mutex_lock(&st->mu);
    if (st->c == NULL || st->over || st->closing) {
        r = -1;
    } else {
        size_t frame = st->chunked ? len + 20 : len;
        size_t queued = atomic_load(&st->out_len) + evbuffer_get_length(st->pending);
        r = queued + frame <= st->max_pending ? 1 : 0;
    }
    pthread_mutex_unlock(&st->mu);
    return r;
}

int
pnk_http_stream_wait(pnk_http_stream_t *st, size_t len, int timeout_ms)
{
    double deadline = pnk_now() + timeout_ms / 1000.0;
    int r;

    if (st == NULL)
        return -1;
    atomic_fetch_add(&st->waiters, 1); /* before looking, so a drain after the look posts */
    while ((r = fits(st, len)) == 0) {
        double left = deadline - pnk_now();
        if (left <= 0)
            break;
        /* Short slices: a missed post costs at most one slice, never a hang. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)((left < 0.05 ? left : 0.05) * 1e9);
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        (void)sem_timedwait(&st->room, &ts);
    }
    atomic_fetch_sub(&st->waiters, 1);
    return r == 1 ? 0 : -1;
}

void
pnk_http_stream_abort(pnk_http_stream_t *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    if (st->c && !st->closing) {
        st->over = true; /* the loop drops it: no last chunk, the connection just closes */
        wake(st);
    }
    pthread_mutex_unlock(&st->mu);
}

void
pnk_http_stream_close(pnk_http_stream_t *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    st->closing = true;
    if (st->c)
        wake(st);
    pthread_mutex_unlock(&st->mu);
    release(st);
}

void
pnk_http_stream_begin(pnk_http_conn_t *c)
{
    pnk_http_stream_t *st = c->stream;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    int sndbuf = STREAM_SNDBUF;
    bool over, closing;

    st->no_body = c->req->method_id == PN_HEAD;
    if (st->no_body)
        st->chunked = false;
    if (pnk_http_write_stream_head(c, st->chunked) != 0) {
        PNK_ERROR("http", "cannot queue stream head peer=%s", c->peer);
        pnk_http_conn_close(c);
        return;
    }
    st->live = true;
    STAT_ADD(c->s, streams_open, 1);
    c->state = CONN_STREAM;
    st->out_cb = evbuffer_add_cb(out, on_out, st);
    atomic_store_explicit(&st->out_len, evbuffer_get_length(out), memory_order_relaxed);
    setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    /* Reading stays on only to notice the client leaving; what it sends is discarded. */
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);

    pthread_mutex_lock(&st->mu);
    over = st->over;
    closing = st->closing;
    pthread_mutex_unlock(&st->mu);
    if (over) {
        drop(c);
        return;
    }
    if (st->no_body || closing || c->s->shutting_down) {
        pnk_http_stream_end(c, true);
        return;
    }
    move(c, st);
}

void
pnk_http_stream_end(pnk_http_conn_t *c, bool graceful)
{
    pnk_http_stream_t *st = c->stream;
    struct evbuffer *out = bufferevent_get_output(c->bev);

    if (st == NULL)
        return;
    c->stream = NULL;
    graceful = graceful && st->live;
    if (st->out_cb) {
        evbuffer_remove_cb_entry(out, st->out_cb);
        st->out_cb = NULL;
    }
    pthread_mutex_lock(&st->mu);
    st->c = NULL; /* from here on writers fail and nobody wakes the kick event */
    if (graceful && !st->no_body)
        evbuffer_add_buffer(out, st->pending);
    else
        evbuffer_drain(st->pending, evbuffer_get_length(st->pending));
    pthread_mutex_unlock(&st->mu);
    notify(st); /* a waiting writer learns the stream is over */
    event_free(st->kick);
    st->kick = NULL;
    if (st->live)
        STAT_SUB(c->s, streams_open, 1);
    bool chunked = st->chunked;
    st->on_close(st->ud);
    release(st);
    if (!graceful)
        return;
    if (chunked)
        evbuffer_add(out, "0\r\n\r\n", 5);
    c->close_after = true;
    pnk_http_write_flush(c);
}
