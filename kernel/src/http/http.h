/*
 * The HTTP/1.1 front: a libevent event loop doing I/O and parsing only, and a pool of handler
 * threads that may block. It owns connections, limits, timeouts and framing; it knows nothing
 * of routes, plugins or JSON beyond the error envelope for protocol errors.
 *
 * Lifetimes: a pnk_http_request_t and everything in its arena live from the moment the request
 * head is parsed until on_done has returned. A response is filled on the handler thread and
 * all its memory comes from the request's arena.
 */
#ifndef PNK_HTTP_H
#define PNK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/arena.h"

typedef struct pnk_http_header {
    const char *name;  /* as received (case preserved) */
    const char *value; /* leading/trailing whitespace removed */
} pnk_http_header_t;

typedef struct pnk_http_request {
    pnk_arena_t *arena;   /* freed by the HTTP layer after on_done */
    const char *method;   /* "GET", as received (methods are case-sensitive) */
    int method_id;        /* pn_method_t bit, or 0 for a method we do not route */
    const char *target;   /* the raw request-target */
    const char *raw_path; /* the target's path part, still percent-encoded */
    const char *path;     /* percent-decoded path; requests whose path decodes to NUL are refused */
    const char *query;    /* raw query string without '?', or NULL */
    pnk_http_header_t *headers;
    size_t nheaders;
    const char *body; /* NUL-terminated copy of the decoded body, or NULL */
    size_t body_len;
    char peer[64];  /* client address as text */
    int http_minor; /* 0 or 1 (HTTP/1.x) */
    bool keep_alive;
    double started;              /* monotonic seconds when the first byte of the head arrived */
    void *app_data;              /* free for the app: set in on_head, read in handle and on_done */
    struct pnk_http_conn *conn_; /* private to the HTTP layer (streams find their connection) */
} pnk_http_request_t;

typedef struct pnk_http_response {
    int status;
    pnk_http_header_t *headers; /* arena; added with pnk_http_response_header */
    size_t nheaders, cap;
    const void *body; /* arena or static; ignored when fd >= 0 */
    size_t body_len;
    int fd; /* >= 0: send file_len bytes from file_offset, then close(fd) */
    off_t file_offset;
    size_t file_len;
    bool close; /* close the connection after this response */
} pnk_http_response_t;

/* Add a response header (copied into the request arena). 0, or -1 on ENOMEM or when the name
 * is not a token or the value holds CR, LF, NUL or another control character. Content-Length,
 * Transfer-Encoding, Connection and Date are the server's own and are not sent if added. */
int pnk_http_response_header(pnk_http_request_t *req, pnk_http_response_t *resp, const char *name,
                             const char *value);
/* Case-insensitive lookup; the first value, or NULL. */
const char *pnk_http_request_header(const pnk_http_request_t *req, const char *name);

typedef struct pnk_http_limits {
    const char *bind;         /* address to listen on, "127.0.0.1" by default */
    int port;                 /* 0 picks a free port (see pnk_http_server_port) */
    int threads;              /* handler threads */
    int max_connections;      /* accepted connections beyond this are closed at once */
    int max_queue;            /* requests waiting for a handler thread; 503 beyond */
    size_t max_head;          /* request line + headers, bytes; 431 beyond (414 for the URI) */
    size_t max_uri;           /* request-target length; 414 beyond */
    size_t max_headers;       /* header count; 431 beyond */
    size_t max_body;          /* server default body cap when on_head does not set one */
    double head_timeout;      /* seconds from the first byte to the end of the head; 408 */
    double body_timeout;      /* seconds of inactivity while reading a body; 408 */
    double write_timeout;     /* seconds of inactivity while writing; connection closed */
    double keepalive_timeout; /* idle seconds between requests on a kept-alive connection */
    double shutdown_grace;    /* seconds to finish in-flight requests on SIGTERM/SIGINT */
} pnk_http_limits_t;

/* Defaults for every field (see http_server.c for the values and why). */
void pnk_http_limits_default(pnk_http_limits_t *l);

typedef struct pnk_http_app {
    void *ud;
    /* Loop thread, after the head is parsed and before the body is read. Return 0 and set
     * *max_body to accept, or an HTTP status >= 400 to answer at once with the error envelope
     * carrying *message (the body is then not read, and the connection is closed if a body
     * was announced). Must not block. */
    int (*on_head)(void *ud, pnk_http_request_t *req, size_t *max_body, const char **message);
    /* Handler thread: fill resp (status 0 is treated as 500). May block. */
    void (*handle)(void *ud, pnk_http_request_t *req, pnk_http_response_t *resp);
    /* Loop thread, after the response was written or the connection died; for the access log
     * and metrics. resp is NULL when no response was produced (client went away). */
    void (*on_done)(void *ud, const pnk_http_request_t *req, const pnk_http_response_t *resp,
                    double duration_ms);
} pnk_http_app_t;

typedef struct pnk_http_server pnk_http_server_t;

/* Bind and listen; NULL with a one-line reason in err. */
pnk_http_server_t *pnk_http_server_new(const pnk_http_limits_t *limits, const pnk_http_app_t *app,
                                       char *err, size_t errlen);
/* The port actually bound. */
int pnk_http_server_port(const pnk_http_server_t *s);
/* Run the loop until SIGTERM/SIGINT or pnk_http_server_stop: then stop accepting, let
 * in-flight requests finish up to shutdown_grace, and return 0. */
int pnk_http_server_run(pnk_http_server_t *s);
/* Ask a running server to shut down as on SIGTERM. Thread-safe (not async-signal-safe). */
void pnk_http_server_stop(pnk_http_server_t *s);
void pnk_http_server_free(pnk_http_server_t *s);

typedef struct pnk_http_stats {
    uint64_t connections_open, connections_total, connections_refused;
    uint64_t requests_total, requests_in_flight, requests_queued;
    uint64_t protocol_errors; /* malformed, oversized, timed out heads */
    uint64_t streams_open;    /* streaming responses in progress */
    uint64_t streams_dropped; /* streams cut because their client did not keep up */
} pnk_http_stats_t;

void pnk_http_server_stats(const pnk_http_server_t *s, pnk_http_stats_t *out);

/*
 * Streaming responses (server-sent events and the like). A handler that calls
 * pnk_http_stream_start instead of filling a body returns at once; the response head (resp's
 * status, 200 when unset, and headers) is sent when it returns, followed by whatever is
 * written to the stream, as HTTP/1.1 chunks (close-delimited for HTTP/1.0). A stream always
 * ends its connection. No handler thread is held while a stream is open.
 *
 * Threads: write and close may be called from any thread; the bytes are handed to the loop
 * thread, which does all socket I/O.
 *
 * Memory: max_pending bounds the bytes written but not yet taken by the client (our output
 * buffer plus what writers queued). A write that would pass it fails, and the stream is
 * then dropped at once (connection closed, unsent bytes discarded): a client that does not
 * read can never make the server hold more than max_pending for it. A small kernel send
 * buffer is set on the socket for the same reason.
 *
 * Ending: on_close(ud) runs exactly once, on the loop thread (or in pnk_http_server_free),
 * when the stream ends for any reason: the owner closed it, the client went away or fell
 * behind, a write timed out, or the server shuts down (a stopping server ends every stream
 * at once, after flushing what was written, rather than waiting for the grace period).
 * on_close must not block; it may call pnk_http_stream_close.
 *
 * Ownership: the caller owns one reference and must give it back with pnk_http_stream_close
 * exactly once (before or after on_close ran); the stream's memory lives until then.
 */
typedef struct pnk_http_stream pnk_http_stream_t;

/* Handler thread, once per request. max_pending 0 means 256 KiB. NULL on ENOMEM or when
 * called twice; the handler then answers normally. */
pnk_http_stream_t *pnk_http_stream_start(pnk_http_request_t *req, pnk_http_response_t *resp,
                                         size_t max_pending, void (*on_close)(void *ud), void *ud);
/* Queue bytes (len 0 is a no-op). 0; -1 when the stream has ended or is ending, or when
 * the bytes would pass max_pending (the stream is then dropped). Any thread. */
int pnk_http_stream_write(pnk_http_stream_t *st, const void *data, size_t len);
/* Backpressure for a writer that must not be dropped: block until len more bytes fit under
 * max_pending (so writing them cannot drop the stream), the stream ends, or timeout_ms pass.
 * 0 when they fit (only one writer may rely on that); -1 when the stream ended or the time
 * ran out. Any thread but the loop's. */
int pnk_http_stream_wait(pnk_http_stream_t *st, size_t len, int timeout_ms);
/* Cut the stream short: the connection closes without the last chunk, so an HTTP/1.1 client
 * sees an incomplete body (a writer that failed half way). The caller still closes. */
void pnk_http_stream_abort(pnk_http_stream_t *st);
/* End the stream: what was written is flushed, then the connection closes (on_close runs
 * if it has not). Gives back the caller's reference: st must not be used afterwards. Any
 * thread, including from on_close. */
void pnk_http_stream_close(pnk_http_stream_t *st);

/* Monotonic clock in seconds. */
double pnk_now(void);

#endif
