/* The head parser and request building: fields, limits, keep-alive rules, incremental input. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include <powernode/types.h>

#include "../http_parser.h"
#include "../http_request.h"

void register_parser_tests(void);

static pnk_http_field_t fields[128];

static int
parse(pnk_http_parser_t *p, const char *s, size_t max_head, size_t max_uri, size_t max_headers)
{
    pnk_http_parser_init(p, max_head, max_uri, max_headers, fields);
    return pnk_http_parse_head(p, s, strlen(s));
}

static int
parse_default(pnk_http_parser_t *p, const char *s)
{
    return parse(p, s, 16384, 8192, 100);
}

static bool
span_is(const char *buf, pnk_http_span_t sp, const char *want)
{
    return sp.len == strlen(want) && memcmp(buf + sp.off, want, sp.len) == 0;
}

static void
test_parser_simple_get(void)
{
    pnk_http_parser_t p;
    const char *s =
        "GET /a/b?x=1 HTTP/1.1\r\nHost: example\r\nX-Empty:\r\nX-Pad: \t v w \t\r\n\r\n";

    CU_ASSERT_EQUAL_FATAL(parse_default(&p, s), PNK_HTTP_DONE);
    CU_ASSERT_EQUAL(p.pos, strlen(s));
    CU_ASSERT(span_is(s, p.method, "GET"));
    CU_ASSERT(span_is(s, p.target, "/a/b?x=1"));
    CU_ASSERT_EQUAL(p.http_minor, 1);
    CU_ASSERT_TRUE(p.keep_alive);
    CU_ASSERT_FALSE(p.has_length);
    CU_ASSERT_FALSE(p.chunked);
    CU_ASSERT_EQUAL_FATAL(p.nfields, 3);
    CU_ASSERT(span_is(s, fields[0].name, "Host"));
    CU_ASSERT(span_is(s, fields[0].value, "example"));
    CU_ASSERT(span_is(s, fields[1].value, ""));
    CU_ASSERT(span_is(s, fields[2].value, "v w"));
}

static void
test_parser_keep_alive_rules(void)
{
    pnk_http_parser_t p;

    CU_ASSERT_EQUAL(parse_default(&p, "GET / HTTP/1.0\r\n\r\n"), PNK_HTTP_DONE);
    CU_ASSERT_FALSE(p.keep_alive);
    CU_ASSERT_EQUAL(p.http_minor, 0);
    CU_ASSERT_EQUAL(parse_default(&p, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
                    PNK_HTTP_DONE);
    CU_ASSERT_TRUE(p.keep_alive);
    CU_ASSERT_EQUAL(
        parse_default(&p, "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n"),
        PNK_HTTP_DONE);
    CU_ASSERT_FALSE(p.keep_alive);
    CU_ASSERT_EQUAL(parse_default(&p, "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n"),
                    PNK_HTTP_DONE);
    CU_ASSERT_TRUE(p.keep_alive);
}

static void
test_parser_content_length_and_expect(void)
{
    pnk_http_parser_t p;

    CU_ASSERT_EQUAL(parse_default(&p, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234\r\n"
                                      "Expect: 100-Continue\r\n\r\n"),
                    PNK_HTTP_DONE);
    CU_ASSERT_TRUE(p.has_length);
    CU_ASSERT_EQUAL(p.length, 1234);
    CU_ASSERT_TRUE(p.expect_continue);
    CU_ASSERT_EQUAL(parse_default(&p, "POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 0\r\n\r\n"),
                    PNK_HTTP_DONE);
    CU_ASSERT_EQUAL(p.length, 0);
    CU_ASSERT_EQUAL(parse_default(&p, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "
                                      "999999999999999999\r\n\r\n"),
                    PNK_HTTP_DONE);
    CU_ASSERT_EQUAL(p.length, 999999999999999999ull);
    /* An HTTP/1.0 client cannot wait for 100 Continue (RFC 9110 10.1.1). */
    CU_ASSERT_EQUAL(parse_default(&p, "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"),
                    PNK_HTTP_DONE);
    CU_ASSERT_FALSE(p.expect_continue);
}

/* Every split of the input must give the same result as the whole. */
static void
test_parser_incremental_splits(void)
{
    const char *inputs[] = {
        "POST /x?y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nA: b\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
    };
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        const char *s = inputs[k];
        size_t n = strlen(s);
        pnk_http_parser_t whole, part;
        int want = parse_default(&whole, s);
        for (size_t step = 1; step <= 7; step++) {
            int rc = PNK_HTTP_MORE;
            pnk_http_parser_init(&part, 16384, 8192, 100, fields);
            for (size_t upto = step; rc == PNK_HTTP_MORE && upto < n + step; upto += step)
                rc = pnk_http_parse_head(&part, s, upto < n ? upto : n);
            CU_ASSERT_EQUAL(rc, want);
            CU_ASSERT_EQUAL(part.pos, whole.pos);
            CU_ASSERT_EQUAL(part.status, whole.status);
            CU_ASSERT_EQUAL(part.keep_alive, whole.keep_alive);
            CU_ASSERT_EQUAL(part.chunked, whole.chunked);
        }
    }
}

static void
test_parser_stops_at_end_of_head(void)
{
    pnk_http_parser_t p;
    const char *s = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";

    CU_ASSERT_EQUAL_FATAL(parse_default(&p, s), PNK_HTTP_DONE);
    CU_ASSERT_EQUAL(p.pos, strlen("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"));
    /* Calling again does not move on. */
    CU_ASSERT_EQUAL(pnk_http_parse_head(&p, s, strlen(s)), PNK_HTTP_DONE);
    pnk_http_parser_reset(&p);
    CU_ASSERT_EQUAL(pnk_http_parse_head(&p, s + 28, strlen(s + 28)), PNK_HTTP_DONE);
    CU_ASSERT(span_is(s + 28, p.target, "/2"));
}

static void
test_parser_limits(void)
{
    pnk_http_parser_t p;
    char *big = malloc(40000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);

    /* URI exactly at the limit is fine, one more byte is 414. */
    strcpy(big, "GET /");
    memset(big + 5, 'a', 99);
    strcpy(big + 104, " HTTP/1.1\r\nHost: a\r\n\r\n");
    CU_ASSERT_EQUAL(parse(&p, big, 1024, 100, 10), PNK_HTTP_DONE);
    CU_ASSERT_EQUAL(parse(&p, big, 1024, 99, 10), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(p.status, 414);
    /* A URI running into the head limit is still a URI problem. */
    CU_ASSERT_EQUAL(parse(&p, big, 64, 60, 10), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(p.status, 414);

    /* Head size: a 20 KiB header. */
    strcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    size_t n = strlen(big);
    memset(big + n, 'b', 20480);
    strcpy(big + n + 20480, "\r\n\r\n");
    CU_ASSERT_EQUAL(parse(&p, big, 16384, 8192, 100), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(p.status, 431);
    CU_ASSERT_EQUAL(parse(&p, big, 32768, 8192, 100), PNK_HTTP_DONE);
    /* Head exactly max_head long is accepted. */
    CU_ASSERT_EQUAL(parse(&p, big, strlen(big), 8192, 100), PNK_HTTP_DONE);
    CU_ASSERT_EQUAL(parse(&p, big, strlen(big) - 1, 8192, 100), PNK_HTTP_ERROR);

    /* Header count. */
    strcpy(big, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 10; i++)
        strcat(big, "X: y\r\n");
    strcat(big, "\r\n");
    CU_ASSERT_EQUAL(parse(&p, big, 16384, 8192, 11), PNK_HTTP_DONE);
    CU_ASSERT_EQUAL(parse(&p, big, 16384, 8192, 10), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(p.status, 431);

    /* Methods are tokens of bounded length. */
    strcpy(big, "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABC / HTTP/1.1\r\nHost: a\r\n\r\n");
    CU_ASSERT_EQUAL(parse_default(&p, big), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(p.status, 400);
    free(big);
}

static void
test_parser_errors_are_sticky(void)
{
    pnk_http_parser_t p;
    const char *s = "GET / HTTP/1.1\nHost: a\r\n\r\n";

    CU_ASSERT_EQUAL(parse_default(&p, s), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(p.status, 400);
    CU_ASSERT_PTR_NOT_NULL(p.error);
    CU_ASSERT_EQUAL(pnk_http_parse_head(&p, s, strlen(s)), PNK_HTTP_ERROR);
}

static pnk_http_request_t *
build(pnk_arena_t *a, const char *s, int *status)
{
    pnk_http_parser_t p;
    pnk_http_request_t *r = NULL;
    const char *err;

    if (parse_default(&p, s) != PNK_HTTP_DONE) {
        *status = -1;
        return NULL;
    }
    *status = pnk_http_request_build(a, &p, s, &r, &err);
    return r;
}

static void
test_request_build(void)
{
    pnk_arena_t *a = pnk_arena_new(0);
    int st;
    pnk_http_request_t *r =
        build(a, "PATCH /files/a%20b/%2Fc?q=%41&x HTTP/1.1\r\nHost: h\r\nX-Id: 7 \r\n\r\n", &st);

    CU_ASSERT_EQUAL_FATAL(st, 0);
    CU_ASSERT_STRING_EQUAL(r->method, "PATCH");
    CU_ASSERT_EQUAL(r->method_id, PN_PATCH);
    CU_ASSERT_STRING_EQUAL(r->target, "/files/a%20b/%2Fc?q=%41&x");
    CU_ASSERT_STRING_EQUAL(r->raw_path, "/files/a%20b/%2Fc");
    CU_ASSERT_STRING_EQUAL(r->path, "/files/a b//c");
    CU_ASSERT_STRING_EQUAL(r->query, "q=%41&x");
    CU_ASSERT_EQUAL(r->nheaders, 2);
    CU_ASSERT_STRING_EQUAL(pnk_http_request_header(r, "x-id"), "7");
    CU_ASSERT_STRING_EQUAL(pnk_http_request_header(r, "HOST"), "h");
    CU_ASSERT_PTR_NULL(pnk_http_request_header(r, "missing"));
    CU_ASSERT_TRUE(r->keep_alive);
    CU_ASSERT_PTR_NULL(r->body);

    r = build(a, "BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", &st);
    CU_ASSERT_EQUAL_FATAL(st, 0);
    CU_ASSERT_EQUAL(r->method_id, 0);
    CU_ASSERT_PTR_NULL(r->query);
    CU_ASSERT_PTR_EQUAL(r->path, r->raw_path);

    build(a, "GET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n", &st);
    CU_ASSERT_EQUAL(st, 400);
    build(a, "GET /a%4 HTTP/1.1\r\nHost: h\r\n\r\n", &st);
    CU_ASSERT_EQUAL(st, 400);
    build(a, "GET /a% HTTP/1.1\r\nHost: h\r\n\r\n", &st);
    CU_ASSERT_EQUAL(st, 400);
    pnk_arena_free(a);
}

static void
test_response_header_refuses_injection(void)
{
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_http_request_t req = {.arena = a};
    pnk_http_response_t resp = {.fd = -1};

    CU_ASSERT_EQUAL(pnk_http_response_header(&req, &resp, "X-A", "1"), 0);
    CU_ASSERT_EQUAL(pnk_http_response_header(&req, &resp, "X-B", "a\r\nSet-Cookie: x"), -1);
    CU_ASSERT_EQUAL(pnk_http_response_header(&req, &resp, "X C", "v"), -1);
    CU_ASSERT_EQUAL(pnk_http_response_header(&req, &resp, "", "v"), -1);
    for (int i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(pnk_http_response_header(&req, &resp, "X-N", "v"), 0);
    CU_ASSERT_EQUAL(resp.nheaders, 21);
    CU_ASSERT_STRING_EQUAL(resp.headers[0].name, "X-A");
    CU_ASSERT_STRING_EQUAL(resp.headers[20].value, "v");
    pnk_arena_free(a);
}

void
register_parser_tests(void)
{
    CU_pSuite s = CU_add_suite("http_parser", NULL, NULL);
    CU_add_test(s, "simple GET", test_parser_simple_get);
    CU_add_test(s, "keep-alive rules", test_parser_keep_alive_rules);
    CU_add_test(s, "Content-Length and Expect", test_parser_content_length_and_expect);
    CU_add_test(s, "incremental splits", test_parser_incremental_splits);
    CU_add_test(s, "stops at end of head", test_parser_stops_at_end_of_head);
    CU_add_test(s, "limits", test_parser_limits);
    CU_add_test(s, "errors are sticky", test_parser_errors_are_sticky);
    CU_add_test(s, "request build", test_request_build);
    CU_add_test(s, "response header refuses injection", test_response_header_refuses_injection);
}
