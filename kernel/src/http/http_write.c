/*
 * Response serialization on the loop thread: status line, Date, Content-Length, Connection,
 * the app's headers and, for small bodies, the body, all in one contiguous evbuffer write.
 */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <powernode/types.h>

#include "../core/envelope.h"
#include "../core/log.h"

/* Bodies up to this size are copied next to the head so the kernel sees one buffer. */
#define INLINE_MAX PN_KIB(64)

void
pnk_http_date_update(pnk_http_server_t *s)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;

    if (now == s->date_sec && s->date_len)
        return;
    s->date_sec = now;
    gmtime_r(&now, &tm);
    int n = snprintf(s->date, sizeof s->date, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                     days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
    s->date_len = n > 0 && (size_t)n < sizeof s->date ? (size_t)n : 0;
}

static char *
put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

#define PUTS(o, lit) put((o), (lit), sizeof(lit) - 1)

static char *
put_u64(char *o, uint64_t v)
{
    char tmp[24];
    int i = 0;

    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        *o++ = tmp[--i];
    return o;
}

/* Framing headers are ours alone; an app copy could contradict them. */
static bool
reserved(const char *name)
{
    switch (name[0] | 0x20) {
    case 'c':
        return strcasecmp(name, "content-length") == 0 || strcasecmp(name, "connection") == 0;
    case 't':
        return strcasecmp(name, "transfer-encoding") == 0;
    case 'd':
        return strcasecmp(name, "date") == 0;
    default:
        return false;
    }
}

typedef struct head {
    int status;
    const pnk_http_header_t *headers;
    size_t nheaders;
    const char *content_type; /* added when not NULL */
    bool send_length;
    uint64_t length;
    bool chunked; /* Transfer-Encoding: chunked (streams) */
    bool keep_alive;
    const void *body; /* copied after the head */
    size_t body_len;
} head_t;

static int
emit(pnk_http_server_t *s, struct evbuffer *out, const head_t *h)
{
    const char *reason = pnk_status_reason(h->status);
    size_t need = 96 + strlen(reason) + s->date_len + h->body_len;
    struct evbuffer_iovec v;

    if (h->content_type)
        need += 16 + strlen(h->content_type);
    for (size_t i = 0; i < h->nheaders; i++)
        need += strlen(h->headers[i].name) + strlen(h->headers[i].value) + 4;
    if (evbuffer_reserve_space(out, (ev_ssize_t)need, &v, 1) != 1 || v.iov_len < need)
        return -1;

    char *o = v.iov_base;
    o = PUTS(o, "HTTP/1.1 ");
    o = put_u64(o, (uint64_t)h->status);
    *o++ = ' ';
    o = put(o, reason, strlen(reason));
    o = PUTS(o, "\r\n");
    o = put(o, s->date, s->date_len);
    if (h->send_length) {
        o = PUTS(o, "Content-Length: ");
        o = put_u64(o, h->length);
        o = PUTS(o, "\r\n");
    }
    if (h->chunked)
        o = PUTS(o, "Transfer-Encoding: chunked\r\n");
    if (h->keep_alive)
        o = PUTS(o, "Connection: keep-alive\r\n");
    else
        o = PUTS(o, "Connection: close\r\n");
    if (h->content_type) {
        o = PUTS(o, "Content-Type: ");
        o = put(o, h->content_type, strlen(h->content_type));
        o = PUTS(o, "\r\n");
    }
    for (size_t i = 0; i < h->nheaders; i++) {
        const pnk_http_header_t *x = &h->headers[i];
        if (reserved(x->name))
            continue;
        o = put(o, x->name, strlen(x->name));
        o = PUTS(o, ": ");
        o = put(o, x->value, strlen(x->value));
        o = PUTS(o, "\r\n");
    }
    o = PUTS(o, "\r\n");
    if (h->body_len)
        o = put(o, h->body, h->body_len);
    v.iov_len = (size_t)(o - (char *)v.iov_base);
    return evbuffer_commit_space(out, &v, 1);
}

static void
enter_write(pnk_http_conn_t *c)
{
    c->state = CONN_WRITE;
    bufferevent_enable(c->bev, EV_WRITE);
    /* Nothing queued (a failed write): finish now rather than wait for a write event. */
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        c->close_after = true;
        bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS);
    }
}

void
pnk_http_write_flush(pnk_http_conn_t *c)
{
    enter_write(c);
}

int
pnk_http_write_stream_head(pnk_http_conn_t *c, bool chunked)
{
    pnk_http_response_t *r = &c->resp;
    head_t h = {0};

    if (r->status == 0)
        r->status = 200;
    if (r->status < 200 || r->status > 599)
        r->status = 500;
    pnk_http_date_update(c->s);
    h.status = r->status;
    h.headers = r->headers;
    h.nheaders = r->nheaders;
    h.chunked = chunked;
    h.keep_alive = false; /* the end of a stream is the end of its connection */
    return emit(c->s, bufferevent_get_output(c->bev), &h);
}

static void
add_file(pnk_http_conn_t *c, struct evbuffer *out)
{
    pnk_http_response_t *r = &c->resp;
    struct evbuffer_file_segment *seg = evbuffer_file_segment_new(
        r->fd, r->file_offset, (ev_off_t)r->file_len, EVBUF_FS_CLOSE_ON_FREE);

    if (seg == NULL) {
        PNK_ERROR("http", "cannot send file fd=%d len=%zu", r->fd, r->file_len);
        c->close_after = true; /* the promised length cannot be met */
        return;
    }
    c->fd_owned = false; /* the segment closes it */
    if (evbuffer_add_file_segment(out, seg, 0, (ev_off_t)r->file_len) != 0) {
        PNK_ERROR("http", "cannot queue file fd=%d", r->fd);
        c->close_after = true;
    }
    evbuffer_file_segment_free(seg);
}

void
pnk_http_write_response(pnk_http_conn_t *c)
{
    pnk_http_server_t *s = c->s;
    pnk_http_request_t *req = c->req;
    pnk_http_response_t *r = &c->resp;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    head_t h = {0};

    if (r->status == 0 && r->body_len == 0 && r->fd < 0) {
        size_t len;
        char *env = pnk_envelope_error_text("internal error", NULL, NULL, &len);
        r->body = env ? pnk_arena_memdup(req->arena, env, len) : NULL;
        r->body_len = r->body ? len : 0;
        free(env);
        pnk_http_response_header(req, r, "Content-Type", "application/json");
    }
    if (r->status < 200 || r->status > 599) {
        if (r->status != 0)
            PNK_WARN("http", "handler set status=%d, sending 500", r->status);
        r->status = 500;
    }
    c->close_after = c->close_after || !req->keep_alive || r->close || s->shutting_down;

    bool bodyless = r->status == 204 || r->status == 304;
    bool send_body = !bodyless && req->method_id != PN_HEAD;
    uint64_t len = r->fd >= 0 ? r->file_len : r->body_len;
    if (r->fd < 0 && r->body == NULL)
        len = 0;

    pnk_http_date_update(s);
    h.status = r->status;
    h.headers = r->headers;
    h.nheaders = r->nheaders;
    h.send_length = !bodyless;
    h.length = len;
    h.keep_alive = !c->close_after;
    if (send_body && r->fd < 0 && len <= INLINE_MAX) {
        h.body = r->body;
        h.body_len = (size_t)len;
    }
    if (emit(s, out, &h) != 0) {
        PNK_ERROR("http", "cannot queue response peer=%s", c->peer);
        c->close_after = true;
    } else if (send_body && r->fd < 0 && len > INLINE_MAX) {
        if (evbuffer_add(out, r->body, (size_t)len) != 0)
            c->close_after = true;
    } else if (send_body && r->fd >= 0 && len > 0) {
        add_file(c, out);
    }
    if (c->fd_owned) { /* HEAD, 204/304 or an empty file: nothing to send from it */
        close(r->fd);
        c->fd_owned = false;
    }
    enter_write(c);
}

void
pnk_http_write_error(pnk_http_conn_t *c, int status, const char *message, bool then_close)
{
    size_t len = 0;
    char *env = pnk_envelope_error_text(message, NULL, NULL, &len);

    if (c->timer_kind != TIMER_NONE) {
        evtimer_del(c->timer);
        c->timer_kind = TIMER_NONE;
    }
    bufferevent_disable(c->bev, EV_READ);
    c->close_after = then_close;
    c->linger = then_close;
    if (c->req) {
        pnk_http_response_t *r = &c->resp;
        if (c->fd_owned)
            close(r->fd);
        c->fd_owned = false;
        memset(r, 0, sizeof *r);
        r->fd = -1;
        r->status = status;
        r->body = env ? pnk_arena_memdup(c->req->arena, env, len) : NULL;
        r->body_len = r->body ? len : 0;
        pnk_http_response_header(c->req, r, "Content-Type", "application/json");
        c->has_resp = true;
        free(env);
        pnk_http_write_response(c);
        return;
    }
    head_t h = {.status = status,
                .content_type = "application/json",
                .send_length = true,
                .length = env ? len : 0,
                .keep_alive = !then_close,
                .body = env,
                .body_len = env ? len : 0};
    pnk_http_date_update(c->s);
    if (emit(c->s, bufferevent_get_output(c->bev), &h) != 0)
        c->close_after = true;
    free(env);
    enter_write(c);
}
