/* The smuggling corpus against the parser alone, whole and split byte by byte. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "../http_parser.h"
#include "../http_request.h"
#include "smuggle_corpus.h"

void register_smuggle_tests(void);

/* The status the server would answer: a head error, a build error, a body error or 200. */
static int
frame(const char *s, size_t n, size_t step)
{
    static pnk_http_field_t fields[100];
    pnk_http_parser_t p;
    int rc = PNK_HTTP_MORE;

    pnk_http_parser_init(&p, 16384, 8192, 100, fields);
    for (size_t upto = step; rc == PNK_HTTP_MORE && upto < n + step; upto += step)
        rc = pnk_http_parse_head(&p, s, upto < n ? upto : n);
    if (rc == PNK_HTTP_ERROR)
        return p.status;
    if (rc != PNK_HTTP_DONE)
        return -1;

    pnk_arena_t *a = pnk_arena_new(0);
    pnk_http_request_t *r;
    const char *err;
    int st = pnk_http_request_build(a, &p, s, &r, &err);
    pnk_arena_free(a);
    if (st)
        return st;
    if (p.has_length)
        return n - p.pos >= p.length ? 200 : -1;
    if (!p.chunked)
        return 200;
    pnk_http_chunked_t c;
    size_t pos = p.pos;
    pnk_http_chunked_init(&c, 1 << 20, 16384);
    rc = PNK_HTTP_MORE;
    while (rc == PNK_HTTP_MORE && pos < n) {
        size_t used, off, dl;
        rc = pnk_http_chunked_parse(&c, s + pos, n - pos, &used, &off, &dl);
        pos += used;
    }
    if (rc == PNK_HTTP_ERROR)
        return c.status;
    return rc == PNK_HTTP_DONE ? 200 : -1;
}

static void
test_smuggle_corpus_parser(void)
{
    size_t refused = 0;

    for (size_t i = 0; i < smuggle_corpus_len; i++) {
        const smuggle_case_t *k = &smuggle_corpus[i];
        int whole = frame(k->raw, k->len, k->len);
        int bytewise = frame(k->raw, k->len, 1);
        if (whole != k->status || bytewise != k->status)
            fprintf(stderr, "\n  corpus \"%s\": want %d, got %d whole / %d byte by byte", k->name,
                    k->status, whole, bytewise);
        CU_ASSERT_EQUAL(whole, k->status);
        CU_ASSERT_EQUAL(bytewise, k->status);
        refused += k->status != 200;
    }
    CU_ASSERT(refused >= 30);
}

void
register_smuggle_tests(void)
{
    CU_pSuite s = CU_add_suite("http_smuggle", NULL, NULL);
    CU_add_test(s, "corpus through the parser", test_smuggle_corpus_parser);
}
