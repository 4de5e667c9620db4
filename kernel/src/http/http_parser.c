/*
 * The request-head state machine and the chunked decoder (RFC 9112). Byte at a time so a head
 * can arrive in any split; refuses anything a lenient parser elsewhere might frame differently.
 * Not for I/O or building the request (see http_request.c).
 */
#include "http_parser.h"

#include <string.h>

enum {
    S_START, /* before the request line; empty lines (CRLF) are skipped */
    S_START_LF,
    S_METHOD,
    S_TARGET_START,
    S_TARGET,
    S_VERSION,
    S_RL_CR,
    S_RL_LF,
    S_FIELD_START,
    S_NAME,
    S_OWS,
    S_VALUE,
    S_FIELD_LF,
    S_END_LF,
    S_DONE,
    S_ERROR,
};

#define METHOD_MAX 32

/* 1: tchar (RFC 9110 5.6.2). 2: field-value char (VCHAR, obs-text, SP, HTAB).
 * 4: request-target char (VCHAR except '#'). */
static const unsigned char ctype[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 7, 6, 3, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6,
    6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

#define IS_TCHAR(c) (ctype[(unsigned char)(c)] & 1)
#define IS_VCHAR(c) (ctype[(unsigned char)(c)] & 2)
#define IS_TARGET(c) (ctype[(unsigned char)(c)] & 4)

bool
pnk_http_token_eq(const char *s, size_t n, const char *lc)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (lc[i] == '\0' || c != (unsigned char)lc[i])
            return false;
    }
    return lc[i] == '\0';
}

void
pnk_http_parser_init(pnk_http_parser_t *p, size_t max_head, size_t max_uri, size_t max_headers,
                     pnk_http_field_t *fields)
{
    memset(p, 0, sizeof(*p));
    /* Spans are 32-bit offsets; no sane head limit comes near that. */
    p->max_head = max_head > UINT32_MAX / 2 ? UINT32_MAX / 2 : max_head;
    p->max_uri = max_uri;
    p->max_headers = max_headers;
    p->fields = fields;
    pnk_http_parser_reset(p);
}

void
pnk_http_parser_reset(pnk_http_parser_t *p)
{
    size_t mh = p->max_head, mu = p->max_uri, mf = p->max_headers;
    pnk_http_field_t *fields = p->fields;

    memset(p, 0, sizeof(*p));
    p->max_head = mh;
    p->max_uri = mu;
    p->max_headers = mf;
    p->fields = fields;
    p->state = S_START;
}

static int
fail(pnk_http_parser_t *p, int status, const char *why)
{
    p->state = S_ERROR;
    p->status = status;
    p->error = why;
    return PNK_HTTP_ERROR;
}

/* Content-Length = 1*DIGIT; we also refuse leading zeros and more than 18 digits, so the
 * value always fits in an int64 and no two parsers can disagree on it. */
static int
parse_length(pnk_http_parser_t *p, const char *v, size_t n)
{
    uint64_t x = 0;

    if (p->has_length)
        return fail(p, 400, "duplicate Content-Length");
    if (n == 0)
        return fail(p, 400, "empty Content-Length");
    if (n > 18)
        return fail(p, 400, "Content-Length too large");
    if (n > 1 && v[0] == '0')
        return fail(p, 400, "Content-Length with leading zeros");
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return fail(p, 400, "Content-Length is not a decimal number");
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    p->has_length = true;
    p->length = x;
    return PNK_HTTP_MORE;
}

static int
parse_te(pnk_http_parser_t *p, const char *v, size_t n)
{
    if (++p->te_count > 1)
        return fail(p, 400, "duplicate Transfer-Encoding");
    if (n == 0)
        return fail(p, 400, "empty Transfer-Encoding");
    if (pnk_http_token_eq(v, n, "chunked")) {
        p->chunked = true;
        return PNK_HTTP_MORE;
    }
    for (size_t i = 0; i < n; i++)
        if (!IS_TCHAR(v[i]))
            return fail(p, 400, "Transfer-Encoding other than chunked");
    return fail(p, 501, "transfer coding not implemented");
}

/* Connection is a comma-separated token list; only close and keep-alive matter here. */
static void
parse_connection(pnk_http_parser_t *p, const char *v, size_t n)
{
    size_t i = 0;

    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (pnk_http_token_eq(v + s, i - s, "close"))
            p->conn_close = true;
        else if (pnk_http_token_eq(v + s, i - s, "keep-alive"))
            p->conn_keepalive = true;
    }
}

static int
on_field(pnk_http_parser_t *p, const char *buf)
{
    pnk_http_field_t *f = &p->fields[p->nfields - 1];
    const char *name = buf + f->name.off, *v = buf + f->value.off;
    size_t nl = f->name.len, vl = f->value.len;

    switch (name[0] | 0x20) {
    case 'c':
        if (pnk_http_token_eq(name, nl, "content-length"))
            return parse_length(p, v, vl);
        if (pnk_http_token_eq(name, nl, "connection"))
            parse_connection(p, v, vl);
        break;
    case 't':
        if (pnk_http_token_eq(name, nl, "transfer-encoding"))
            return parse_te(p, v, vl);
        break;
    case 'e':
        if (pnk_http_token_eq(name, nl, "expect")) {
            if (!pnk_http_token_eq(v, vl, "100-continue"))
                return fail(p, 417, "unsupported Expect value");
            p->expect_continue = true;
        }
        break;
    case 'h':
        if (pnk_http_token_eq(name, nl, "host"))
            p->hosts++;
        break;
    default:
        break;
    }
    return PNK_HTTP_MORE;
}

/* Framing decisions that need the whole head (RFC 9112 6.1, 6.3, 3.2). */
static int
on_end(pnk_http_parser_t *p)
{
    if (p->http_minor == 1 && p->hosts != 1)
        return fail(p, 400, p->hosts ? "more than one Host header" : "missing Host header");
    if (p->hosts > 1)
        return fail(p, 400, "more than one Host header");
    if (p->te_count && p->has_length)
        return fail(p, 400, "both Content-Length and Transfer-Encoding");
    if (p->te_count && p->http_minor == 0)
        return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (p->http_minor == 0)
        p->expect_continue = false; /* RFC 9110 10.1.1: ignore it from 1.0 clients */
    p->keep_alive = !p->conn_close && (p->http_minor == 1 || p->conn_keepalive);
    p->state = S_DONE;
    return PNK_HTTP_DONE;
}

static int
check_version(pnk_http_parser_t *p, const char *v)
{
    if (memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
        v[7] > '9')
        return fail(p, 400, "malformed HTTP version");
    if (v[5] != '1' || v[7] > '1')
        return fail(p, 505, "HTTP version not supported");
    p->http_minor = v[7] - '0';
    return PNK_HTTP_MORE;
}

static int
too_long(pnk_http_parser_t *p)
{
    if (p->state == S_TARGET || p->state == S_TARGET_START || p->state == S_METHOD)
        return fail(p, 414, "request-target too long");
    return fail(p, 431, "request head too large");
}

/* The request line: METHOD SP origin-form SP HTTP/1.x CRLF. */
static int
request_line(pnk_http_parser_t *p, const char *buf, uint32_t i)
{
    char c = buf[i];

    switch (p->state) {
    case S_START:
        if (c == '\r') {
            p->state = S_START_LF;
        } else if (IS_TCHAR(c)) {
            p->method.off = i;
            p->state = S_METHOD;
        } else {
            return fail(p, 400, c == '\n' ? "bare LF line ending" : "malformed request line");
        }
        return PNK_HTTP_MORE;
    case S_START_LF:
        if (c != '\n')
            return fail(p, 400, "CR not followed by LF");
        p->state = S_START;
        return PNK_HTTP_MORE;
    case S_METHOD:
        if (c == ' ') {
            p->method.len = i - p->method.off;
            p->state = S_TARGET_START;
        } else if (!IS_TCHAR(c) || i - p->method.off >= METHOD_MAX) {
            return fail(p, 400, "malformed method");
        }
        return PNK_HTTP_MORE;
    case S_TARGET_START:
        /* Only origin-form: we are an origin server, so absolute-form (a proxy request),
         * authority-form (CONNECT) and asterisk-form are refused rather than half-supported. */
        if (c != '/')
            return fail(p, 400,
                        c == ' ' ? "extra space in request line"
                                 : "request-target must start with /");
        p->target.off = i;
        p->state = S_TARGET;
        return PNK_HTTP_MORE;
    case S_TARGET:
        if (c == ' ') {
            p->target.len = i - p->target.off;
            p->mark = i + 1;
            p->state = S_VERSION;
        } else if (!IS_TARGET(c)) {
            return fail(p, 400, "invalid character in request-target");
        } else if (i - p->target.off >= p->max_uri) {
            return fail(p, 414, "request-target too long");
        }
        return PNK_HTTP_MORE;
    case S_VERSION:
        if (c == ' ' || c == '\r' || c == '\n')
            return fail(p, 400, "malformed HTTP version");
        if (i - p->mark == 7) {
            if (check_version(p, buf + p->mark) < 0)
                return PNK_HTTP_ERROR;
            p->state = S_RL_CR;
        }
        return PNK_HTTP_MORE;
    case S_RL_CR:
        if (c != '\r')
            return fail(p, 400, c == '\n' ? "bare LF line ending" : "malformed request line");
        p->state = S_RL_LF;
        return PNK_HTTP_MORE;
    default: /* S_RL_LF */
        if (c != '\n')
            return fail(p, 400, "CR not followed by LF");
        p->state = S_FIELD_START;
        return PNK_HTTP_MORE;
    }
}

/* Header fields: token ":" OWS value OWS CRLF, no obs-fold, no whitespace before the colon. */
static int
field_line(pnk_http_parser_t *p, const char *buf, uint32_t i)
{
    char c = buf[i];
    pnk_http_field_t *f;

    switch (p->state) {
    case S_FIELD_START:
        if (c == '\r') {
            p->state = S_END_LF;
        } else if (IS_TCHAR(c)) {
            if (p->nfields >= p->max_headers)
                return fail(p, 431, "too many header fields");
            f = &p->fields[p->nfields++];
            f->name.off = i;
            p->state = S_NAME;
        } else if (c == ' ' || c == '\t') {
            return fail(p, 400, "obsolete line folding or leading whitespace");
        } else {
            return fail(p, 400, c == '\n' ? "bare LF line ending" : "malformed header field");
        }
        return PNK_HTTP_MORE;
    case S_NAME:
        if (c == ':') {
            f = &p->fields[p->nfields - 1];
            f->name.len = i - f->name.off;
            p->state = S_OWS;
        } else if (c == ' ' || c == '\t') {
            return fail(p, 400, "whitespace before colon in header field");
        } else if (!IS_TCHAR(c)) {
            return fail(p, 400, "invalid character in header name");
        }
        return PNK_HTTP_MORE;
    case S_OWS:
        f = &p->fields[p->nfields - 1];
        if (c == ' ' || c == '\t')
            return PNK_HTTP_MORE;
        if (c == '\r') {
            f->value.off = i;
            f->value.len = 0;
            p->state = S_FIELD_LF;
        } else if (IS_VCHAR(c)) {
            f->value.off = i;
            p->last_nonws = i;
            p->state = S_VALUE;
        } else {
            return fail(p, 400,
                        c == '\n' ? "bare LF line ending" : "control character in header value");
        }
        return PNK_HTTP_MORE;
    case S_VALUE:
        if (c == '\r') {
            f = &p->fields[p->nfields - 1];
            f->value.len = p->last_nonws + 1 - f->value.off;
            p->state = S_FIELD_LF;
        } else if (!IS_VCHAR(c)) {
            return fail(p, 400,
                        c == '\n' ? "bare LF line ending" : "control character in header value");
        } else if (c != ' ' && c != '\t') {
            p->last_nonws = i;
        }
        return PNK_HTTP_MORE;
    case S_FIELD_LF:
        if (c != '\n')
            return fail(p, 400, "CR not followed by LF");
        p->state = S_FIELD_START;
        return on_field(p, buf);
    default: /* S_END_LF */
        if (c != '\n')
            return fail(p, 400, "CR not followed by LF");
        return on_end(p);
    }
}

int
pnk_http_parse_head(pnk_http_parser_t *p, const char *buf, size_t len)
{
    size_t i = p->pos;

    if (p->state == S_DONE)
        return PNK_HTTP_DONE;
    if (p->state == S_ERROR)
        return PNK_HTTP_ERROR;
    for (; i < len; i++) {
        int rc;
        if (i >= p->max_head) {
            p->pos = i;
            return too_long(p);
        }
        if (p->state < S_FIELD_START)
            rc = request_line(p, buf, (uint32_t)i);
        else
            rc = field_line(p, buf, (uint32_t)i);
        if (rc != PNK_HTTP_MORE) {
            p->pos = i + 1;
            return rc;
        }
    }
    p->pos = i;
    return PNK_HTTP_MORE;
}

/* ---- chunked transfer coding (RFC 9112 7.1) ---- */

enum {
    C_SIZE_START,
    C_SIZE,
    C_SIZE_WS,
    C_EXT,
    C_SIZE_LF,
    C_DATA,
    C_DATA_CR,
    C_DATA_LF,
    C_TRAILER_START,
    C_TRAILER_NAME,
    C_TRAILER_VALUE,
    C_TRAILER_LF,
    C_END_LF,
    C_DONE,
    C_ERROR,
};

/* A chunk-size line (size plus extensions) longer than this is refused: extensions carry
 * nothing we use, and an unbounded line is a free way to hold a connection's memory. */
#define CHUNK_LINE_MAX 1024

void
pnk_http_chunked_init(pnk_http_chunked_t *c, uint64_t max_body, size_t max_trailer)
{
    memset(c, 0, sizeof(*c));
    c->max_body = max_body;
    c->max_trailer = max_trailer;
    c->state = C_SIZE_START;
}

static int
cfail(pnk_http_chunked_t *c, int status, const char *why)
{
    c->state = C_ERROR;
    c->status = status;
    c->error = why;
    return PNK_HTTP_ERROR;
}

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* One framing byte (anything but chunk data). */
static int
chunk_byte(pnk_http_chunked_t *c, char ch)
{
    int h;

    if (c->state <= C_SIZE_LF && ++c->line > CHUNK_LINE_MAX)
        return cfail(c, 400, "chunk-size line too long");
    if (c->state >= C_TRAILER_START && ++c->trailer > c->max_trailer)
        return cfail(c, 431, "trailer section too large");
    switch (c->state) {
    case C_SIZE_START:
        if ((h = hexval(ch)) < 0)
            return cfail(c, 400, "malformed chunk size");
        c->remaining = (uint64_t)h;
        c->state = C_SIZE;
        break;
    case C_SIZE:
        if ((h = hexval(ch)) >= 0) {
            if (c->remaining >> 60)
                return cfail(c, 400, "chunk size overflows");
            c->remaining = c->remaining << 4 | (uint64_t)h;
        } else if (ch == ';') {
            c->state = C_EXT;
        } else if (ch == ' ' || ch == '\t') {
            c->state = C_SIZE_WS;
        } else if (ch == '\r') {
            c->state = C_SIZE_LF;
        } else {
            return cfail(c, 400, ch == '\n' ? "bare LF in chunked body" : "malformed chunk size");
        }
        break;
    case C_SIZE_WS: /* BWS is only allowed before an extension */
        if (ch == ';')
            c->state = C_EXT;
        else if (ch != ' ' && ch != '\t')
            return cfail(c, 400, "malformed chunk extension");
        break;
    case C_EXT:
        if (ch == '\r')
            c->state = C_SIZE_LF;
        else if (!IS_VCHAR(ch))
            return cfail(c, 400, "control character in chunk extension");
        break;
    case C_SIZE_LF:
        if (ch != '\n')
            return cfail(c, 400, "CR not followed by LF in chunked body");
        c->line = 0;
        if (c->remaining == 0) {
            c->state = C_TRAILER_START;
        } else if (c->remaining > c->max_body - c->total) {
            return cfail(c, 413, "request body too large");
        } else {
            c->state = C_DATA;
        }
        break;
    case C_DATA_CR:
        if (ch != '\r')
            return cfail(c, 400, "chunk data not followed by CRLF");
        c->state = C_DATA_LF;
        break;
    case C_DATA_LF:
        if (ch != '\n')
            return cfail(c, 400, "chunk data not followed by CRLF");
        c->state = C_SIZE_START;
        break;
    case C_TRAILER_START:
        if (ch == '\r')
            c->state = C_END_LF;
        else if (IS_TCHAR(ch))
            c->state = C_TRAILER_NAME;
        else
            return cfail(c, 400, "malformed trailer field");
        break;
    case C_TRAILER_NAME:
        if (ch == ':')
            c->state = C_TRAILER_VALUE;
        else if (!IS_TCHAR(ch))
            return cfail(c, 400, "malformed trailer field");
        break;
    case C_TRAILER_VALUE:
        if (ch == '\r')
            c->state = C_TRAILER_LF;
        else if (!IS_VCHAR(ch))
            return cfail(c, 400, "control character in trailer field");
        break;
    case C_TRAILER_LF:
        if (ch != '\n')
            return cfail(c, 400, "CR not followed by LF in trailer");
        c->state = C_TRAILER_START;
        break;
    default: /* C_END_LF */
        if (ch != '\n')
            return cfail(c, 400, "CR not followed by LF in chunked body");
        c->state = C_DONE;
        return PNK_HTTP_DONE;
    }
    return PNK_HTTP_MORE;
}

int
pnk_http_chunked_parse(pnk_http_chunked_t *c, const char *in, size_t len, size_t *used,
                       size_t *data_off, size_t *data_len)
{
    size_t i = 0;

    *data_off = *data_len = 0;
    if (c->state == C_DONE || c->state == C_ERROR) {
        *used = 0;
        return c->state == C_DONE ? PNK_HTTP_DONE : PNK_HTTP_ERROR;
    }
    while (i < len) {
        if (c->state == C_DATA) {
            size_t n = len - i;
            if ((uint64_t)n > c->remaining)
                n = (size_t)c->remaining;
            *data_off = i;
            *data_len = n;
            c->remaining -= n;
            c->total += n;
            if (c->remaining == 0)
                c->state = C_DATA_CR;
            *used = i + n;
            return PNK_HTTP_MORE;
        }
        int rc = chunk_byte(c, in[i++]);
        if (rc != PNK_HTTP_MORE) {
            *used = i;
            return rc;
        }
    }
    *used = i;
    return PNK_HTTP_MORE;
}
