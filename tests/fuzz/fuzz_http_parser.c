/*
 * libFuzzer target for the HTTP head parser, request building and the chunked decoder.
 * Besides memory errors it checks that feeding the same bytes in small steps gives exactly
 * the result of feeding them at once (a split-dependent parser is a smuggling bug).
 * Input: one control byte (step size and limits), then the raw request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"
#include "http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static pnk_http_field_t fields_a[100], fields_b[100];

static int
head_in_steps(pnk_http_parser_t *p, const char *s, size_t n, size_t step)
{
    int rc = PNK_HTTP_MORE;

    for (size_t upto = step; rc == PNK_HTTP_MORE && upto < n + step; upto += step)
        rc = pnk_http_parse_head(p, s, upto < n ? upto : n);
    return rc;
}

/* Decode the body; returns rc and fills out (up to cap) with the decoded bytes. */
static int
chunked_in_steps(const char *s, size_t n, size_t step, char *out, size_t *outlen, size_t *end)
{
    pnk_http_chunked_t c;
    size_t pos = 0, avail = 0;
    int rc = PNK_HTTP_MORE;

    pnk_http_chunked_init(&c, 1 << 16, 1024);
    *outlen = 0;
    while (rc == PNK_HTTP_MORE && pos < n) {
        avail = avail + step > n ? n : avail + step;
        while (rc == PNK_HTTP_MORE && pos < avail) {
            size_t used, off, dl;
            rc = pnk_http_chunked_parse(&c, s + pos, avail - pos, &used, &off, &dl);
            CHECK(used <= avail - pos && off + dl <= used);
            memcpy(out + *outlen, s + pos + off, dl);
            *outlen += dl;
            pos += used;
        }
    }
    CHECK(*outlen == c.total);
    *end = pos;
    return rc == PNK_HTTP_ERROR ? -c.status : rc;
}

static void
check_request(const pnk_http_parser_t *p, const char *s)
{
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_http_request_t *r = NULL;
    const char *err = NULL;

    if (a == NULL)
        return;
    int st = pnk_http_request_build(a, p, s, &r, &err);
    if (st == 0) {
        CHECK(strlen(r->method) == p->method.len);
        CHECK(strlen(r->target) == p->target.len);
        CHECK(r->raw_path[0] == '/' && r->path != NULL);
        CHECK(r->nheaders == p->nfields);
        for (size_t i = 0; i < r->nheaders; i++) {
            CHECK(strlen(r->headers[i].name) == p->fields[i].name.len);
            CHECK(pnk_http_request_header(r, r->headers[i].name) != NULL);
        }
    } else {
        CHECK(st == 400 && err != NULL);
    }
    pnk_arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    size_t step = (size_t)(ctl & 15) + 1;
    size_t max_head = (ctl & 16) ? 256 : 8192;
    size_t max_uri = (ctl & 32) ? 64 : 4096;
    size_t max_headers = (ctl & 64) ? 4 : 100;
    pnk_http_parser_t a, b;

    pnk_http_parser_init(&a, max_head, max_uri, max_headers, fields_a);
    pnk_http_parser_init(&b, max_head, max_uri, max_headers, fields_b);
    int ra = pnk_http_parse_head(&a, s, n);
    int rb = head_in_steps(&b, s, n, step);
    CHECK(ra == rb);
    CHECK(a.pos == b.pos && a.pos <= n && a.pos <= max_head);
    if (ra == PNK_HTTP_ERROR) {
        CHECK(a.status == b.status && a.error != NULL);
        CHECK(a.status >= 400 && a.status <= 505);
        return 0;
    }
    if (ra != PNK_HTTP_DONE)
        return 0;
    CHECK(a.nfields == b.nfields && a.keep_alive == b.keep_alive && a.chunked == b.chunked &&
          a.length == b.length && a.expect_continue == b.expect_continue);
    CHECK(!(a.chunked && a.has_length));
    CHECK(a.target.len <= max_uri);
    check_request(&a, s);

    if (a.chunked) {
        size_t rest = n - a.pos;
        char *o1 = malloc(rest + 1), *o2 = malloc(rest + 1);
        size_t l1, l2, e1, e2;
        if (o1 && o2) {
            int c1 = chunked_in_steps(s + a.pos, rest, rest ? rest : 1, o1, &l1, &e1);
            int c2 = chunked_in_steps(s + a.pos, rest, step, o2, &l2, &e2);
            CHECK(c1 == c2 && l1 == l2 && e1 == e2 && memcmp(o1, o2, l1) == 0);
        }
        free(o1);
        free(o2);
    }
    return 0;
}
