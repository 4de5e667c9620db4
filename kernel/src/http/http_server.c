/*
 * The server object: limits and their defaults, listening and accepting under the connection
 * cap, signals, graceful shutdown and statistics. Connections live in http_conn.c.
 */
#include "http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <powernode/types.h>

#include "../core/log.h"

/* Pending connections the kernel may hold for us; the cap is enforced after accept. */
#define LISTEN_BACKLOG 1024
/* A lingering close waits this long for the client to stop sending. */
#define LINGER_SECONDS 2.0

/*
 * The defaults, and why:
 * - bind 127.0.0.1: nothing is exposed until someone decides to; production sits behind a
 *   reverse proxy or sets the address explicitly.
 * - port 3000: the API's conventional port in development and in the frontend's proxy config.
 * - threads 8: handlers block on PostgreSQL and Redis; eight keep two cores busy while others
 *   wait, without more database connections than a small pool holds.
 * - max_connections 1024: far above what a proxy in front keeps open, and still within a
 *   raised file limit together with database and Redis sockets.
 * - max_queue 1024: one request per connection at most is ever waiting, so with the default
 *   cap 503 only appears when max_queue is lowered below max_connections.
 * - max_head 16 KiB: room for large cookies and tokens (nginx allows 4 x 8 KiB lines); a
 *   bigger head is an attack or a bug.
 * - max_uri 8 KiB: nginx's request-line buffer; our longest filtered list URL is far below.
 * - max_headers 100: browsers send about 20; more only costs parse time.
 * - max_body 1 MiB: nginx's client_max_body_size; JSON API bodies are small, and routes that
 *   take more say so in on_head (uploads go in bounded parts or straight to object storage).
 * - head_timeout 10 s from the first byte: h2o's request timeout; slow-header attacks are
 *   cut there however they trickle bytes.
 * - body_timeout 15 s without progress: a stalled upload frees its connection, while a slow
 *   link that keeps sending is not punished for the body's size.
 * - write_timeout 30 s without progress: a client that stops reading a large response.
 * - keepalive 60 s: at least the idle timeout of common load balancers, so the proxy rather
 *   than us closes idle pooled connections (avoiding the close/reuse race).
 * - shutdown_grace 10 s: enough for normal requests, well under systemd's 90 s and
 *   Kubernetes' 30 s before SIGKILL.
 */
void
pnk_http_limits_default(pnk_http_limits_t *l)
{
    memset(l, 0, sizeof(*l));
    l->bind = "127.0.0.1";
    l->port = 3000;
    l->threads = 8;
    l->max_connections = 1024;
    l->max_queue = 1024;
    l->max_head = PN_KIB(16);
    l->max_uri = PN_KIB(8);
    l->max_headers = 100;
    l->max_body = PN_MIB(1);
    l->head_timeout = 10;
    l->body_timeout = 15;
    l->write_timeout = 30;
    l->keepalive_timeout = 60;
    l->shutdown_grace = 10;
}

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void
use_threads(void)
{
    /* event_active from handler threads needs a locked, notifiable base. */
    evthread_use_pthreads();
}

static struct timeval
tv_of(double seconds)
{
    struct timeval tv;

    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    return tv;
}

static const char *
check_limits(const pnk_http_limits_t *l)
{
    if (l->threads < 1 || l->threads > 1024)
        return "threads must be 1..1024";
    if (l->max_connections < 1)
        return "max_connections must be at least 1";
    if (l->max_queue < 1)
        return "max_queue must be at least 1";
    if (l->max_head < 64 || l->max_head > PN_MIB(1))
        return "max_head must be 64 bytes..1 MiB";
    if (l->max_uri < 1 || l->max_uri >= l->max_head)
        return "max_uri must be at least 1 and below max_head";
    if (l->max_headers < 1 || l->max_headers > 10000)
        return "max_headers must be 1..10000";
    if (l->head_timeout <= 0 || l->body_timeout <= 0 || l->write_timeout <= 0 ||
        l->keepalive_timeout <= 0 || l->shutdown_grace < 0)
        return "timeouts must be positive";
    if (l->port < 0 || l->port > 65535)
        return "port must be 0..65535";
    return NULL;
}

static void
on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    pnk_http_server_t *s = arg;

    (void)lev;
    /* Counted before the close, so whoever sees the close also sees the count. */
    if (s->nconns >= (size_t)s->lim.max_connections || s->shutting_down) {
        STAT_ADD(s, connections_refused, 1);
        evutil_closesocket(fd);
        return;
    }
    if (pnk_http_conn_new(s, fd, sa, salen) == NULL) {
        STAT_ADD(s, connections_refused, 1);
        evutil_closesocket(fd);
    }
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
    pnk_http_server_t *s = arg;

    (void)fd;
    (void)what;
    if (s->listener)
        evconnlistener_enable(s->listener);
}

/* Out of descriptors: accept would fail at once forever, spinning the loop. Pause it. */
static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
    pnk_http_server_t *s = arg;
    int e = EVUTIL_SOCKET_ERROR();
    struct timeval tv = {0, 100000};

    PNK_WARN("http", "accept failed: %s", evutil_socket_error_to_string(e));
    evconnlistener_disable(lev);
    evtimer_add(s->retry_ev, &tv);
}

/* Grace is over: whatever is still open is cut. */
static void
on_grace(evutil_socket_t fd, short what, void *arg)
{
    pnk_http_server_t *s = arg;
    pnk_http_conn_t *c, *next;

    (void)fd;
    (void)what;
    PNK_WARN("http", "shutdown grace over, closing connections=%zu", s->nconns);
    for (c = s->conns; c; c = next) {
        next = c->next;
        if (c->in_pool && pnk_http_pool_cancel(s->pool, &c->job))
            c->in_pool = false;
        pnk_http_conn_close(c); /* orphans the ones whose handler is running */
    }
    event_base_loopexit(s->base, NULL);
}

static void
begin_shutdown(pnk_http_server_t *s)
{
    pnk_http_conn_t *c, *next;
    struct timeval tv = tv_of(s->lim.shutdown_grace);

    if (s->shutting_down)
        return;
    s->shutting_down = true;
    if (s->listener) {
        evconnlistener_free(s->listener);
        s->listener = NULL;
    }
    evtimer_del(s->retry_ev);
    /* Idle and half-read heads hold no request yet: close them now. Streams flush what was
     * written and end. The others finish their request and close after writing (write_done
     * checks shutting_down). */
    for (c = s->conns; c; c = next) {
        next = c->next;
        if (c->state == CONN_IDLE || c->state == CONN_LINGER)
            pnk_http_conn_close(c);
        else if (c->state == CONN_STREAM) /* a stream never ends by itself: end it now */
            pnk_http_stream_end(c, true);
    }
    PNK_INFO("http", "shutting down in_flight=%zu grace=%.1fs", s->nconns, s->lim.shutdown_grace);
    if (s->nconns == 0)
        event_base_loopexit(s->base, NULL);
    else
        evtimer_add(s->grace_ev, &tv);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    begin_shutdown(arg);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    PNK_INFO("http", "signal=%d, stopping", (int)sig);
    begin_shutdown(arg);
}

static int
make_addr(const char *bind, int port, struct sockaddr_storage *ss, int *len)
{
    char host[64];
    size_t n = strlen(bind);

    memset(ss, 0, sizeof(*ss));
    if (n >= 2 && bind[0] == '[' && bind[n - 1] == ']') {
        bind++;
        n -= 2;
    }
    if (n >= sizeof host)
        return -1;
    memcpy(host, bind, n);
    host[n] = '\0';
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *len = sizeof(*in);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return 0;
    }
    return -1;
}

static int
bound_port(evutil_socket_t fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    memset(&ss, 0, sizeof ss); /* the analyzer cannot see getsockname() fill it */
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

pnk_http_server_t *
pnk_http_server_new(const pnk_http_limits_t *limits, const pnk_http_app_t *app, char *err,
                    size_t errlen)
{
    pnk_http_server_t *s;
    struct sockaddr_storage ss;
    int sslen;
    const char *why;

    if (app == NULL || app->handle == NULL) {
        (void)snprintf(err, errlen, "http: no handler");
        return NULL;
    }
    if ((why = check_limits(limits)) != NULL) {
        (void)snprintf(err, errlen, "http: %s", why);
        return NULL;
    }
    const char *bind = limits->bind ? limits->bind : "127.0.0.1";
    if (make_addr(bind, limits->port, &ss, &sslen) != 0) {
        (void)snprintf(err, errlen, "http: bind address \"%s\" is not an IPv4 or IPv6 address",
                       bind);
        return NULL;
    }
    pthread_once(&threads_once, use_threads);
    /* A peer that resets mid-write must cost us an EPIPE, not the process. */
    (void)signal(SIGPIPE, SIG_IGN);

    if ((s = calloc(1, sizeof(*s))) == NULL) {
        (void)snprintf(err, errlen, "http: out of memory");
        return NULL;
    }
    s->lim = *limits;
    (void)snprintf(s->bind, sizeof s->bind, "%s", bind);
    s->lim.bind = s->bind;
    s->app = *app;
    s->head_tv = tv_of(limits->head_timeout);
    s->body_tv = tv_of(limits->body_timeout);
    s->write_tv = tv_of(limits->write_timeout);
    s->keepalive_tv = tv_of(limits->keepalive_timeout);
    s->linger_tv = tv_of(LINGER_SECONDS);

    if ((s->base = event_base_new()) == NULL) {
        (void)snprintf(err, errlen, "http: cannot create event base");
        goto fail;
    }
    s->listener = evconnlistener_new_bind(
        s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        LISTEN_BACKLOG, (struct sockaddr *)&ss, sslen);
    if (s->listener == NULL) {
        (void)snprintf(err, errlen, "http: cannot listen on %s:%d: %s", bind, limits->port,
                       strerror(errno));
        goto fail;
    }
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    s->port = bound_port(evconnlistener_get_fd(s->listener));
    s->stop_ev = event_new(s->base, -1, 0, on_stop, s);
    s->grace_ev = evtimer_new(s->base, on_grace, s);
    s->retry_ev = evtimer_new(s->base, on_retry, s);
    s->pool = pnk_http_pool_new(s->base, limits->threads, (size_t)limits->max_queue,
                                pnk_http_conn_run, pnk_http_conn_done, s);
    if (s->stop_ev == NULL || s->grace_ev == NULL || s->retry_ev == NULL || s->pool == NULL) {
        (void)snprintf(err, errlen, "http: cannot start handler threads");
        goto fail;
    }
    return s;
fail:
    pnk_http_server_free(s);
    return NULL;
}

int
pnk_http_server_port(const pnk_http_server_t *s)
{
    return s->port;
}

int
pnk_http_server_run(pnk_http_server_t *s)
{
    if (s->ran)
        return -1;
    s->ran = true;
    s->sig_term = evsignal_new(s->base, SIGTERM, on_signal, s);
    s->sig_int = evsignal_new(s->base, SIGINT, on_signal, s);
    if (s->sig_term == NULL || s->sig_int == NULL || event_add(s->sig_term, NULL) != 0 ||
        event_add(s->sig_int, NULL) != 0) {
        PNK_ERROR("http", "cannot install signal handlers");
        return -1;
    }
    PNK_INFO("http", "listening addr=%s port=%d threads=%d", s->bind, s->port, s->lim.threads);
    event_base_dispatch(s->base);
    /* From here on no handler starts: queued jobs were cancelled at the end of the grace. */
    pnk_http_pool_pause(s->pool);
    event_free(s->sig_term);
    event_free(s->sig_int);
    s->sig_term = s->sig_int = NULL;
    PNK_INFO("http", "stopped");
    return 0;
}

void
pnk_http_server_stop(pnk_http_server_t *s)
{
    event_active(s->stop_ev, EV_READ, 0);
}

void
pnk_http_server_free(pnk_http_server_t *s)
{
    if (s == NULL)
        return;
    /* Joins the threads: a handler still running after the grace is waited for here. */
    pnk_http_pool_free(s->pool);
    s->pool = NULL;
    while (s->conns)
        pnk_http_conn_destroy(s->conns);
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->stop_ev)
        event_free(s->stop_ev);
    if (s->grace_ev)
        event_free(s->grace_ev);
    if (s->retry_ev)
        event_free(s->retry_ev);
    if (s->base)
        event_base_free(s->base);
    free(s);
}

void
pnk_http_server_stats(const pnk_http_server_t *s, pnk_http_stats_t *out)
{
    pnk_http_server_t *m = (pnk_http_server_t *)(uintptr_t)s; /* atomics load through non-const */

    out->connections_open = atomic_load_explicit(&m->connections_open, memory_order_relaxed);
    out->connections_total = atomic_load_explicit(&m->connections_total, memory_order_relaxed);
    out->connections_refused = atomic_load_explicit(&m->connections_refused, memory_order_relaxed);
    out->requests_total = atomic_load_explicit(&m->requests_total, memory_order_relaxed);
    out->requests_in_flight = atomic_load_explicit(&m->requests_in_flight, memory_order_relaxed);
    out->requests_queued = m->pool ? pnk_http_pool_queued(m->pool) : 0;
    out->protocol_errors = atomic_load_explicit(&m->protocol_errors, memory_order_relaxed);
    out->streams_open = atomic_load_explicit(&m->streams_open, memory_order_relaxed);
    out->streams_dropped = atomic_load_explicit(&m->streams_dropped, memory_order_relaxed);
}

double
pnk_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
