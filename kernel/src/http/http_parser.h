/*
 * Strict, incremental HTTP/1.1 request-head parser and chunked transfer-coding decoder.
 * Pure code: no I/O, no allocation, no libevent, so it can be unit-tested and fuzzed alone.
 * Every refusal carries the HTTP status to answer and a one-line reason.
 */
#ifndef PNK_HTTP_PARSER_H
#define PNK_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PNK_HTTP_ERROR = -1, PNK_HTTP_MORE = 0, PNK_HTTP_DONE = 1 };

/* Offsets into the caller's buffer (the head is never copied while it is parsed). */
typedef struct pnk_http_span {
    uint32_t off, len;
} pnk_http_span_t;

typedef struct pnk_http_field {
    pnk_http_span_t name, value; /* value without leading/trailing SP/HTAB */
} pnk_http_field_t;

typedef struct pnk_http_parser {
    /* Set by pnk_http_parser_init. */
    size_t max_head, max_uri, max_headers;
    pnk_http_field_t *fields; /* caller's array of max_headers entries */

    /* Results, valid once pnk_http_parse_head returned PNK_HTTP_DONE. */
    size_t pos; /* bytes consumed; the head length when done */
    pnk_http_span_t method, target;
    size_t nfields;
    int http_minor;
    bool keep_alive;
    bool chunked;    /* Transfer-Encoding: chunked */
    bool has_length; /* Content-Length present */
    uint64_t length; /* its value */
    bool expect_continue;

    /* On PNK_HTTP_ERROR: the status to answer (400, 414, 431, 501, 505, 417) and why. */
    int status;
    const char *error;

    /* Private. */
    int state;
    uint32_t mark, last_nonws;
    unsigned hosts, te_count;
    bool conn_close, conn_keepalive;
} pnk_http_parser_t;

/* Prepare p for a new head. fields must hold max_headers entries and outlive the parse. */
void pnk_http_parser_init(pnk_http_parser_t *p, size_t max_head, size_t max_uri, size_t max_headers,
                          pnk_http_field_t *fields);
/* Forget the previous head, keeping the limits and the fields array. */
void pnk_http_parser_reset(pnk_http_parser_t *p);

/*
 * Parse buf[0..len), where buf holds the whole head received so far (the same bytes as the
 * previous call, plus more): parsing resumes at p->pos. Stops at the end of the head, so bytes
 * of a body or a pipelined request after it are left alone. Returns PNK_HTTP_MORE, PNK_HTTP_DONE
 * (p->pos is the head length) or PNK_HTTP_ERROR (p->status, p->error). After an error the
 * connection can no longer be framed and must be closed.
 */
int pnk_http_parse_head(pnk_http_parser_t *p, const char *buf, size_t len);

typedef struct pnk_http_chunked {
    uint64_t max_body;  /* decoded bytes allowed; 413 beyond */
    size_t max_trailer; /* trailer section bytes allowed; 431 beyond */
    uint64_t total;     /* decoded bytes so far */
    uint64_t remaining; /* bytes left in the current chunk's data */
    int status;         /* on PNK_HTTP_ERROR */
    const char *error;
    /* Private. */
    int state;
    size_t line, trailer;
} pnk_http_chunked_t;

void pnk_http_chunked_init(pnk_http_chunked_t *c, uint64_t max_body, size_t max_trailer);

/*
 * Decode from in[0..len). *used is set to the bytes consumed. When decoded data was found, the
 * call stops right after it and reports it as in[*data_off .. *data_off + *data_len) so the
 * caller copies it and calls again with the rest. Returns PNK_HTTP_MORE (call again with the
 * unused bytes, or with more input once all were used), PNK_HTTP_DONE (the last chunk and the
 * trailers were consumed; later bytes belong to the next request) or PNK_HTTP_ERROR.
 * Trailer fields are checked for syntax and then discarded.
 */
int pnk_http_chunked_parse(pnk_http_chunked_t *c, const char *in, size_t len, size_t *used,
                           size_t *data_off, size_t *data_len);

/* True when [s, s+n) equals the lowercase word lc, ignoring ASCII case. */
bool pnk_http_token_eq(const char *s, size_t n, const char *lc);

#endif
