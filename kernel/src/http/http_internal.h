/*
 * Private to kernel/src/http: the server and connection structs shared by http_server.c
 * (accept, shutdown), http_conn.c (reading, timers) and http_write.c (responses).
 */
#ifndef PNK_HTTP_INTERNAL_H
#define PNK_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <sys/time.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "http.h"
#include "http_parser.h"
#include "http_pool.h"

typedef enum {
    CONN_IDLE,    /* waiting for, or reading, a request head */
    CONN_BODY,    /* reading a request body */
    CONN_HANDLER, /* the request is queued or running on a pool thread; reading paused */
    CONN_WRITE,   /* a response is in the output buffer */
    CONN_LINGER,  /* write side shut after an error; discarding input before closing */
    CONN_STREAM,  /* a streaming response is open (http_stream.c); input is discarded */
} conn_state_t;

typedef enum { TIMER_NONE, TIMER_IDLE, TIMER_HEAD, TIMER_BODY, TIMER_LINGER } timer_kind_t;

typedef struct pnk_http_conn pnk_http_conn_t;

struct pnk_http_conn {
    pnk_http_job_t job; /* first: the pool hands it back and we cast */
    pnk_http_server_t *s;
    pnk_http_conn_t *prev, *next;
    struct bufferevent *bev;
    struct event *timer;
    conn_state_t state;
    timer_kind_t timer_kind;
    bool head_started;
    bool close_after; /* close once the response is written */
    bool linger;      /* ...after a lingering close (an error left input unread) */
    bool in_pool;     /* the pool holds job: the conn must not be freed */
    bool orphan;      /* connection died while in the pool; freed when the job returns */
    bool has_resp;    /* resp was filled (handler or error) */
    bool fd_owned;    /* resp.fd still belongs to us and must be closed if not sent */
    double started;
    size_t lingered;

    pnk_http_parser_t parser;
    pnk_http_chunked_t chunk;
    bool chunked;
    uint64_t body_len; /* Content-Length */
    size_t body_got;
    char *body;
    char **chunk_buf; /* arena slot holding a malloc'd chunked body, freed by the arena */
    size_t chunk_cap;

    pnk_http_request_t *req;
    pnk_http_response_t resp;
    pnk_http_stream_t *stream; /* set by the handler (pnk_http_stream_start), then loop-only */
    char peer[64];
    pnk_http_field_t fields[]; /* limits.max_headers */
};

struct pnk_http_server {
    pnk_http_limits_t lim;
    char bind[64];
    pnk_http_app_t app;
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *stop_ev, *grace_ev, *retry_ev, *sig_term, *sig_int;
    pnk_http_pool_t *pool;
    int port;
    bool shutting_down, ran;
    pnk_http_conn_t *conns; /* every open connection, for shutdown */
    size_t nconns;
    struct timeval head_tv, body_tv, write_tv, keepalive_tv, linger_tv;

    char date[48]; /* "Date: ...\r\n", refreshed once a second (loop thread only) */
    size_t date_len;
    time_t date_sec;

    _Atomic uint64_t connections_open, connections_total, connections_refused;
    _Atomic uint64_t requests_total, requests_in_flight, protocol_errors;
    _Atomic uint64_t streams_open, streams_dropped;
};

#define STAT_ADD(s, f, n) atomic_fetch_add_explicit(&(s)->f, (n), memory_order_relaxed)
#define STAT_SUB(s, f, n) atomic_fetch_sub_explicit(&(s)->f, (n), memory_order_relaxed)

/* http_conn.c */
pnk_http_conn_t *pnk_http_conn_new(pnk_http_server_t *s, evutil_socket_t fd,
                                   const struct sockaddr *sa, int salen);
/* Close now: on_done for a request still open, then free (or orphan while in the pool). */
void pnk_http_conn_close(pnk_http_conn_t *c);
/* The pool callbacks. */
void pnk_http_conn_run(pnk_http_job_t *job, void *ud);
void pnk_http_conn_done(pnk_http_job_t *job, void *ud);
/* Free without calling the app (server_free, after run returned). */
void pnk_http_conn_destroy(pnk_http_conn_t *c);

/* http_write.c */
/* Queue c->resp for c->req and enter CONN_WRITE. */
void pnk_http_write_response(pnk_http_conn_t *c);
/* Answer a protocol error with the JSON envelope, closing afterwards (lingering) if then_close.
 * Works before a request exists (no request id, no on_done) and after. */
void pnk_http_write_error(pnk_http_conn_t *c, int status, const char *message, bool then_close);
/* Refresh s->date if the second changed. */
void pnk_http_date_update(pnk_http_server_t *s);
/* Queue the head of a streaming response (no Content-Length; chunked when chunked). -1 when
 * it cannot be queued. */
int pnk_http_write_stream_head(pnk_http_conn_t *c, bool chunked);
/* Enter CONN_WRITE for what is already queued (close_after decides what follows). */
void pnk_http_write_flush(pnk_http_conn_t *c);

/* http_stream.c (loop thread) */
/* The handler returned with a stream: send the head, then stream (c->stream is set). */
void pnk_http_stream_begin(pnk_http_conn_t *c);
/* Detach the stream from c and run on_close. graceful: queue what was written and the end
 * of the body, and enter CONN_WRITE to close after flushing; otherwise drop it (the caller
 * closes the connection). */
void pnk_http_stream_end(pnk_http_conn_t *c, bool graceful);

#endif
