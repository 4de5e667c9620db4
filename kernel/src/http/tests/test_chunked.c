/* The chunked decoder: data runs, splits at every byte, limits, trailers, the end position. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "../http_parser.h"

void register_chunked_tests(void);

/* Decode s fed step bytes at a time; decoded data into out. Returns the final rc and sets
 * *end to the bytes consumed in total. */
static int
decode(pnk_http_chunked_t *c, const char *s, size_t n, size_t step, char *out, size_t *outlen,
       size_t *end)
{
    size_t pos = 0, avail = 0;
    int rc = PNK_HTTP_MORE;

    *outlen = 0;
    while (rc == PNK_HTTP_MORE && pos < n) {
        avail = avail + step > n ? n : avail + step;
        while (rc == PNK_HTTP_MORE && pos < avail) {
            size_t used, off, dl;
            rc = pnk_http_chunked_parse(c, s + pos, avail - pos, &used, &off, &dl);
            memcpy(out + *outlen, s + pos + off, dl);
            *outlen += dl;
            pos += used;
        }
    }
    *end = pos;
    return rc;
}

static void
test_chunked_basic_and_splits(void)
{
    const char *s = "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n000\r\nX-T: v\r\n\r\n"
                    "NEXT";
    size_t n = strlen(s);
    char out[128];

    for (size_t step = 1; step <= n; step++) {
        pnk_http_chunked_t c;
        size_t len, end;
        pnk_http_chunked_init(&c, 1024, 1024);
        int rc = decode(&c, s, n, step, out, &len, &end);
        CU_ASSERT_EQUAL(rc, PNK_HTTP_DONE);
        CU_ASSERT_EQUAL(len, 31);
        CU_ASSERT_EQUAL(memcmp(out, "helloabcdefghijklmnopqrstuvwxyz", 31), 0);
        CU_ASSERT_EQUAL(end, n - 4); /* "NEXT" is the next request's */
        CU_ASSERT_EQUAL(c.total, 31);
    }
}

static int
run(const char *s, uint64_t max_body, size_t max_trailer, int *status)
{
    pnk_http_chunked_t c;
    char out[256];
    size_t len, end;

    pnk_http_chunked_init(&c, max_body, max_trailer);
    int rc = decode(&c, s, strlen(s), strlen(s), out, &len, &end);
    *status = c.status;
    return rc;
}

static void
test_chunked_limits(void)
{
    int st;

    CU_ASSERT_EQUAL(run("5\r\nhello\r\n0\r\n\r\n", 5, 100, &st), PNK_HTTP_DONE);
    CU_ASSERT_EQUAL(run("5\r\nhello\r\n1\r\nx\r\n0\r\n\r\n", 5, 100, &st), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(st, 413);
    /* Refused on the announced size, before any data. */
    CU_ASSERT_EQUAL(run("100000\r\n", 1000, 100, &st), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(st, 413);
    CU_ASSERT_EQUAL(
        run("0\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n", 100, 20, &st),
        PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(st, 431);
    CU_ASSERT_EQUAL(run("fffffffffffffff\r\n", UINT64_MAX, 100, &st), PNK_HTTP_MORE);
    CU_ASSERT_EQUAL(run("10000000000000000\r\n", UINT64_MAX, 100, &st), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(st, 400);
    /* Leading zeros are fine, a 2 KiB size line is not. */
    CU_ASSERT_EQUAL(run("00000000000000000000005\r\nhello\r\n0\r\n\r\n", 100, 100, &st),
                    PNK_HTTP_DONE);
    char longext[2100] = "1;";
    memset(longext + 2, 'a', 2048);
    strcpy(longext + 2050, "\r\nx\r\n0\r\n\r\n");
    CU_ASSERT_EQUAL(run(longext, 100, 100, &st), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(st, 400);
}

static void
test_chunked_malformed(void)
{
    const char *bad[] = {
        "\r\n",    "g\r\n",     "5\nhello\r\n", "5\r\nhelloX\r\n", "5\r\nhello\rX",    " 5\r\n",
        "5 x\r\n", "0\r\n\r\r", "0\r\n: v\r\n", "0\r\nA\r\n\r\n",  "0\r\nA: \x01\r\n", "5;\x7f\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = 0;
        CU_ASSERT_EQUAL(run(bad[i], 100, 100, &st), PNK_HTTP_ERROR);
        CU_ASSERT_EQUAL(st, 400);
    }
    /* Errors are sticky. */
    pnk_http_chunked_t c;
    size_t used, off, dl;
    pnk_http_chunked_init(&c, 10, 10);
    CU_ASSERT_EQUAL(pnk_http_chunked_parse(&c, "z", 1, &used, &off, &dl), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(pnk_http_chunked_parse(&c, "0\r\n\r\n", 5, &used, &off, &dl), PNK_HTTP_ERROR);
    CU_ASSERT_EQUAL(used, 0);
}

void
register_chunked_tests(void)
{
    CU_pSuite s = CU_add_suite("http_chunked", NULL, NULL);
    CU_add_test(s, "basic, every split", test_chunked_basic_and_splits);
    CU_add_test(s, "limits", test_chunked_limits);
    CU_add_test(s, "malformed", test_chunked_malformed);
}
