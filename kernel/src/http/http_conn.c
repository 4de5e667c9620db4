/*
 * One client connection on the loop thread: read a head, ask the app, read the body, hand the
 * request to the pool, and take it back for writing (or streaming, http_stream.c). One request in
 * flight per connection; reading is paused meanwhile so pipelined requests are answered in order.
 */
#include "http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <powernode/types.h>

#include "../core/envelope.h"
#include "../core/log.h"
#include "http_request.h"

/* Bytes of unread input a lingering close swallows before giving up on the client. */
#define LINGER_MAX PN_MIB(1)

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void head_read(pnk_http_conn_t *c);

static void
arm(pnk_http_conn_t *c, timer_kind_t kind, const struct timeval *tv)
{
    c->timer_kind = kind;
    evtimer_add(c->timer, tv);
}

static void
disarm(pnk_http_conn_t *c)
{
    if (c->timer_kind != TIMER_NONE) {
        evtimer_del(c->timer);
        c->timer_kind = TIMER_NONE;
    }
}

static void
format_peer(char *out, size_t n, const struct sockaddr *sa)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        (void)snprintf(out, n, "%s:%d", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        (void)snprintf(out, n, "[%s]:%d", ip, port);
    } else {
        (void)snprintf(out, n, "unix");
    }
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    pnk_http_conn_t *c = arg;
    timer_kind_t kind = c->timer_kind;

    (void)fd;
    (void)what;
    c->timer_kind = TIMER_NONE;
    switch (kind) {
    case TIMER_HEAD:
        STAT_ADD(c->s, protocol_errors, 1);
        pnk_http_write_error(c, 408, "request head not received in time", true);
        break;
    case TIMER_BODY:
        STAT_ADD(c->s, protocol_errors, 1);
        pnk_http_write_error(c, 408, "request body timed out", true);
        break;
    default: /* idle keep-alive, lingering close */
        pnk_http_conn_close(c);
        break;
    }
}

pnk_http_conn_t *
pnk_http_conn_new(pnk_http_server_t *s, evutil_socket_t fd, const struct sockaddr *sa, int salen)
{
    pnk_http_conn_t *c = calloc(1, sizeof(*c) + s->lim.max_headers * sizeof(c->fields[0]));
    int one = 1;

    (void)salen;
    if (c == NULL)
        return NULL;
    c->s = s;
    c->resp.fd = -1;
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(s->base, on_timer, c);
    if (c->bev == NULL || c->timer == NULL) {
        if (c->bev)
            bufferevent_free(c->bev);
        if (c->timer)
            event_free(c->timer);
        free(c);
        return NULL;
    }
    /* Responses go out in one write; Nagle would only hold them back. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    format_peer(c->peer, sizeof c->peer, sa);
    pnk_http_parser_init(&c->parser, s->lim.max_head, s->lim.max_uri, s->lim.max_headers,
                         c->fields);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    /* The write timeout is libevent's: it only runs while output is pending. Read deadlines
     * are our own timer, because an inactivity timeout lets a byte now and then keep a
     * connection forever. */
    bufferevent_set_timeouts(c->bev, NULL, &s->write_tv);
    bufferevent_enable(c->bev, EV_READ);
    c->state = CONN_IDLE;
    arm(c, TIMER_IDLE, &s->head_tv);

    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    STAT_ADD(s, connections_open, 1);
    STAT_ADD(s, connections_total, 1);
    return c;
}

/* on_done and the arena; the request is over either way. */
static void
finish_request(pnk_http_conn_t *c, bool call_app)
{
    pnk_http_server_t *s = c->s;

    if (c->stream) /* a connection that goes away takes its stream with it */
        pnk_http_stream_end(c, false);
    if (c->fd_owned) {
        close(c->resp.fd);
        c->fd_owned = false;
    }
    if (c->req == NULL)
        return;
    if (call_app && s->app.on_done)
        s->app.on_done(s->app.ud, c->req, c->has_resp ? &c->resp : NULL,
                       (pnk_now() - c->req->started) * 1000.0);
    pnk_arena_free(c->req->arena);
    c->req = NULL;
    c->has_resp = false;
    c->body = NULL;
    c->chunk_buf = NULL;
    memset(&c->resp, 0, sizeof c->resp);
    c->resp.fd = -1;
    STAT_SUB(s, requests_in_flight, 1);
}

static void
unlink_and_free(pnk_http_conn_t *c)
{
    pnk_http_server_t *s = c->s;

    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    STAT_SUB(s, connections_open, 1);
    event_free(c->timer);
    bufferevent_free(c->bev);
    free(c);
    if (s->shutting_down && s->nconns == 0)
        event_base_loopexit(s->base, NULL);
}

void
pnk_http_conn_close(pnk_http_conn_t *c)
{
    disarm(c);
    if (c->in_pool) {
        /* The handler still uses req and resp; the pool's done callback frees us. */
        c->orphan = true;
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
        shutdown(bufferevent_getfd(c->bev), SHUT_RDWR); /* tell the client now */
        return;
    }
    finish_request(c, true);
    unlink_and_free(c);
}

void
pnk_http_conn_destroy(pnk_http_conn_t *c)
{
    c->in_pool = false;
    finish_request(c, false);
    unlink_and_free(c);
}

static void
dispatch(pnk_http_conn_t *c)
{
    disarm(c);
    bufferevent_disable(c->bev, EV_READ);
    c->state = CONN_HANDLER;
    c->in_pool = true;
    if (pnk_http_pool_submit(c->s->pool, &c->job) != 0) {
        c->in_pool = false;
        /* The body was read whole, so the connection is still in step. */
        pnk_http_write_error(c, 503, "server busy, retry later", false);
    }
}

void
pnk_http_conn_run(pnk_http_job_t *job, void *ud)
{
    pnk_http_conn_t *c = (pnk_http_conn_t *)job;
    pnk_http_server_t *s = ud;

    s->app.handle(s->app.ud, c->req, &c->resp);
}

void
pnk_http_conn_done(pnk_http_job_t *job, void *ud)
{
    pnk_http_conn_t *c = (pnk_http_conn_t *)job;

    (void)ud;
    c->in_pool = false;
    c->has_resp = true;
    c->fd_owned = c->resp.fd >= 0;
    if (c->orphan) {
        pnk_http_conn_close(c);
        return;
    }
    if (c->stream) {
        pnk_http_stream_begin(c);
        return;
    }
    pnk_http_write_response(c);
}

static void
start_linger(pnk_http_conn_t *c)
{
    c->state = CONN_LINGER;
    c->lingered = 0;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    bufferevent_enable(c->bev, EV_READ);
    arm(c, TIMER_LINGER, &c->s->linger_tv);
    on_read(c->bev, c);
}

static void
write_done(pnk_http_conn_t *c)
{
    finish_request(c, true);
    if (c->close_after || c->s->shutting_down) {
        if (c->linger && !c->s->shutting_down)
            start_linger(c);
        else
            pnk_http_conn_close(c);
        return;
    }
    c->state = CONN_IDLE;
    c->head_started = false;
    pnk_http_parser_reset(&c->parser);
    arm(c, TIMER_IDLE, &c->s->keepalive_tv);
    bufferevent_enable(c->bev, EV_READ);
    /* A pipelined request may already be buffered; no read event will announce it. */
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        head_read(c);
}

/* ---- body ---- */

static int
chunk_store(pnk_http_conn_t *c, const char *data, size_t n)
{
    size_t need = c->body_got + n + 1;

    if (need > c->chunk_cap) {
        size_t cap = c->chunk_cap ? c->chunk_cap : 1024;
        while (cap < need)
            cap *= 2;
        char *nb = realloc(*c->chunk_buf, cap);
        if (nb == NULL)
            return -1;
        *c->chunk_buf = nb;
        c->chunk_cap = cap;
    }
    memcpy(*c->chunk_buf + c->body_got, data, n);
    c->body_got += n;
    return 0;
}

static void
body_complete(pnk_http_conn_t *c)
{
    char *b = c->chunked ? *c->chunk_buf : c->body;

    if (b)
        b[c->body_got] = '\0';
    c->req->body = c->body_got ? b : NULL;
    c->req->body_len = c->body_got;
    dispatch(c);
}

/*
 * libevent 2.1 reads at most 4 KiB per readv (plus a FIONREAD ioctl and an epoll_wait each),
 * which made a 16 MiB body cost ~12k syscalls. So a body of known length is read here in large
 * recv()s straight into the request's body (chunked ones still come through the input buffer,
 * whose end libevent keeps frozen). At most READ_BUDGET per wake-up so one fast client cannot
 * hold the loop.
 * Returns -1 when the connection failed (the caller closes), 0 otherwise; EOF is left for
 * the bufferevent to notice on its next read (a closed socket stays readable).
 */
#define READ_BUDGET PN_MIB(4)

static int
recv_some(pnk_http_conn_t *c, char *dst, size_t cap, size_t *got)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);

    *got = 0;
    while (cap > 0) {
        ssize_t n = recv(fd, dst + *got, cap, 0);
        if (n > 0) {
            *got += (size_t)n;
            cap -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        break; /* drained, or EOF */
    }
    return 0;
}

static void
body_read_length(pnk_http_conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t want = (size_t)c->body_len - c->body_got, got = 0;
    size_t len = evbuffer_get_length(in);

    if (len > 0) { /* what libevent (or the head's read) already buffered */
        int n = evbuffer_remove(in, c->body + c->body_got, want < len ? want : len);
        if (n > 0)
            c->body_got += (size_t)n;
        want = (size_t)c->body_len - c->body_got;
    }
    if (want > 0 &&
        recv_some(c, c->body + c->body_got, want < READ_BUDGET ? want : READ_BUDGET, &got) != 0) {
        pnk_http_conn_close(c);
        return;
    }
    c->body_got += got;
    if (len > 0 || got > 0)
        arm(c, TIMER_BODY, &c->s->body_tv); /* inactivity: any progress restarts it */
    if (c->body_got == c->body_len)
        body_complete(c);
}

static void
body_read(pnk_http_conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);

    if (!c->chunked) {
        body_read_length(c);
        return;
    }
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return;
    arm(c, TIMER_BODY, &c->s->body_tv);
    /* Walk the buffer's own segments: the decoder takes any split, so nothing is pulled up. */
    struct evbuffer_iovec vec[16];
    size_t pos = 0;
    int rc = PNK_HTTP_MORE;
    while (rc == PNK_HTTP_MORE && pos < len) {
        struct evbuffer_ptr at;
        evbuffer_ptr_set(in, &at, pos, EVBUFFER_PTR_SET);
        int nv = evbuffer_peek(in, (ev_ssize_t)(len - pos), &at, vec, 16);
        if (nv <= 0)
            break;
        for (int i = 0; i < nv && i < 16 && rc == PNK_HTTP_MORE; i++) {
            const char *data = vec[i].iov_base;
            size_t vlen = vec[i].iov_len, vpos = 0;
            if (vlen > len - pos)
                vlen = len - pos;
            while (vpos < vlen) {
                size_t used, off, dl;
                rc = pnk_http_chunked_parse(&c->chunk, data + vpos, vlen - vpos, &used, &off, &dl);
                if (dl && chunk_store(c, data + vpos + off, dl) != 0) {
                    evbuffer_drain(in, pos + vpos + used);
                    pnk_http_write_error(c, 500, "out of memory", true);
                    return;
                }
                vpos += used;
                if (rc != PNK_HTTP_MORE)
                    break;
            }
            pos += vpos;
        }
    }
    evbuffer_drain(in, pos);
    if (rc == PNK_HTTP_ERROR) {
        if (c->chunk.status != 413)
            STAT_ADD(c->s, protocol_errors, 1);
        pnk_http_write_error(c, c->chunk.status, c->chunk.error, true);
    } else if (rc == PNK_HTTP_DONE) {
        body_complete(c);
    }
}

static void
free_slot(void *arg)
{
    char **slot = arg;
    free(*slot);
}

/* After the head: ask the app, then read the body or dispatch. */
static void
head_done(pnk_http_conn_t *c, const char *data)
{
    pnk_http_server_t *s = c->s;
    pnk_http_parser_t *p = &c->parser;
    pnk_arena_t *a = pnk_arena_new(p->pos + 2048);
    const char *err = "out of memory";
    int rc = a ? pnk_http_request_build(a, p, data, &c->req, &err) : 500;

    evbuffer_drain(bufferevent_get_input(c->bev), p->pos);
    if (rc != 0) {
        pnk_arena_free(a);
        c->req = NULL;
        if (rc == 400)
            STAT_ADD(s, protocol_errors, 1);
        pnk_http_write_error(c, rc, err, true);
        return;
    }
    c->req->started = c->started;
    c->req->conn_ = c;
    memcpy(c->req->peer, c->peer, sizeof c->peer);
    STAT_ADD(s, requests_total, 1);
    STAT_ADD(s, requests_in_flight, 1);

    bool body = (p->has_length && p->length > 0) || p->chunked;
    size_t max_body = s->lim.max_body;
    const char *msg = NULL;
    int status = s->app.on_head ? s->app.on_head(s->app.ud, c->req, &max_body, &msg) : 0;
    if (status != 0) {
        if (status < 400 || status > 599)
            status = 500;
        /* An unread body would be taken for the next request: close after answering. */
        pnk_http_write_error(c, status, msg ? msg : pnk_err_message(pnk_status_err(status)), body);
        return;
    }
    if (p->has_length && p->length > max_body) {
        pnk_http_write_error(c, 413, "request body too large", true);
        return;
    }
    c->chunked = p->chunked;
    c->body_got = 0;
    if (!body) {
        dispatch(c);
        return;
    }
    if (p->expect_continue)
        bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    if (c->chunked) {
        pnk_http_chunked_init(&c->chunk, max_body, s->lim.max_head);
        c->chunk_cap = 0;
        c->chunk_buf = pnk_arena_calloc(c->req->arena, 1, sizeof(char *));
        if (c->chunk_buf == NULL || pnk_arena_defer(c->req->arena, free_slot, c->chunk_buf)) {
            pnk_http_write_error(c, 500, "out of memory", true);
            return;
        }
    } else {
        c->body_len = p->length;
        c->body = pnk_arena_alloc(c->req->arena, (size_t)p->length + 1);
        if (c->body == NULL) {
            pnk_http_write_error(c, 500, "out of memory", true);
            return;
        }
    }
    c->state = CONN_BODY;
    arm(c, TIMER_BODY, &s->body_tv);
    body_read(c);
}

static void
head_read(pnk_http_conn_t *c)
{
    pnk_http_server_t *s = c->s;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = evbuffer_get_length(in);

    if (len == 0)
        return;
    if (!c->head_started) {
        c->head_started = true;
        c->started = pnk_now();
        arm(c, TIMER_HEAD, &s->head_tv);
    }
    /* One byte past the limit is enough for the parser to tell "too large". */
    if (len > s->lim.max_head + 1)
        len = s->lim.max_head + 1;
    const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
    int rc = pnk_http_parse_head(&c->parser, data, len);
    if (rc == PNK_HTTP_MORE)
        return;
    disarm(c);
    if (rc == PNK_HTTP_ERROR) {
        STAT_ADD(s, protocol_errors, 1);
        pnk_http_write_error(c, c->parser.status, c->parser.error, true);
        return;
    }
    head_done(c, data);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    pnk_http_conn_t *c = arg;

    switch (c->state) {
    case CONN_IDLE:
        head_read(c);
        break;
    case CONN_BODY:
        body_read(c);
        break;
    case CONN_STREAM: {
        struct evbuffer *in = bufferevent_get_input(bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        break;
    }
    case CONN_LINGER: {
        struct evbuffer *in = bufferevent_get_input(bev);
        c->lingered += evbuffer_get_length(in);
        evbuffer_drain(in, evbuffer_get_length(in));
        if (c->lingered > LINGER_MAX)
            pnk_http_conn_close(c);
        break;
    }
    default:
        break;
    }
}

static void
on_write(struct bufferevent *bev, void *arg)
{
    pnk_http_conn_t *c = arg;

    if (c->state == CONN_WRITE && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        write_done(c);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    pnk_http_conn_t *c = arg;

    (void)bev;
    /* A client that half-closes after a complete request still gets its answer. */
    if ((what & BEV_EVENT_EOF) && (c->state == CONN_HANDLER || c->state == CONN_WRITE)) {
        c->close_after = true;
        return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && c->state == CONN_WRITE)
        PNK_DEBUG("http", "write timeout peer=%s", c->peer);
    pnk_http_conn_close(c);
}
