/* Decoding untrusted input: JSON limits and refusals, percent-decoding, query strings. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "../decode.h"

void register_decode_tests(void);

static char err[256];

static json_t *
decode(const char *s, size_t len, int depth)
{
    err[0] = '\0';
    return pnk_json_decode(s, len, depth, err, sizeof err);
}

static json_t *
decode_str(const char *s)
{
    return decode(s, strlen(s), 64);
}

static void
test_decode_depth_limit(void)
{
    char buf[300];
    for (int depth = 1; depth <= 100; depth++) {
        memset(buf, '[', (size_t)depth);
        memset(buf + depth, ']', (size_t)depth);
        json_t *j = decode(buf, (size_t)depth * 2, 16);
        if (depth <= 16) {
            CU_ASSERT_PTR_NOT_NULL(j);
        } else {
            CU_ASSERT_PTR_NULL(j);
            CU_ASSERT_PTR_NOT_NULL(strstr(err, "deeper than 16"));
        }
        json_decref(j);
    }
    /* Brackets in strings (and escaped quotes) do not count. */
    json_t *j = decode_str("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[[[[[[[[[[[[[[[[[[[\"}");
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
    const char *quoted = "[[[[\"]]]]]]]]]]]]]]]]]]]]\"]]]]";
    j = decode(quoted, strlen(quoted), 4);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
    /* Mixed objects and arrays count together; the refusal names the position. */
    CU_ASSERT_PTR_NULL(decode_str(
        "{\"a\":\n [{\"b\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));
    /* Far deeper than Jansson's own limit: refused cheaply, no crash. */
    static char deep[200001];
    memset(deep, '[', sizeof deep - 1);
    CU_ASSERT_PTR_NULL(decode(deep, sizeof deep - 1, 0));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "deeper than 64"));
}

static void
test_decode_refusals(void)
{
    static const struct {
        const char *text;
        size_t len; /* 0 = strlen */
        const char *needle;
    } cases[] = {
        {"{\"a\":1,\"a\":2}", 0, "duplicate"},
        {"{\"a\":\"\xff\"}", 0, "invalid JSON"},
        {"{\"a\":\"\xc3\x28\"}", 0, "invalid JSON"},
        {"\xef\xbb\xbf{}", 0, "invalid JSON"},
        {"{\"a\":\"x\\u0000y\"}", 0, "invalid JSON"},
        {"{\"a\":1}\0", 8, "NUL byte"},
        {"{\"a\":\"b\0c\"}", 11, "NUL byte"},
        {"{\"a\":1} x", 0, "invalid JSON"},
        {"{\"a\":1}{}", 0, "invalid JSON"},
        {"[1,]", 0, "invalid JSON"},
        {"{'a':1}", 0, "invalid JSON"},
        {"123456789012345678901234567890", 0, "invalid JSON"},
        {"1e999", 0, "invalid JSON"},
        {"", 0, "empty"},
        {"   ", 0, "invalid JSON"},
        {"[\"unterminated", 0, "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        json_t *j = decode(cases[i].text, len, 64);
        CU_ASSERT_PTR_NULL(j);
        if (!strstr(err, cases[i].needle))
            fprintf(stderr, "case %zu: \"%s\"\n", i, err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].needle));
        json_decref(j);
    }
    CU_ASSERT_PTR_NULL(decode(NULL, 3, 64));
    /* The error has a position and does not echo the input. */
    CU_ASSERT_PTR_NULL(decode_str("{\"a\":\n  secretvalue}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2, column"));
    CU_ASSERT_PTR_NULL(strstr(err, "secretvalue"));
}

static void
test_decode_accepts_values(void)
{
    json_t *j = decode_str(" {\"name\":\"caf\\u00e9 \xe2\x82\xac\",\"n\":-12,\"x\":1.5e3,"
                           "\"l\":[true,false,null]} \n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "name")),
                           "caf\xc3\xa9 \xe2\x82\xac");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "n")), -12);
    json_decref(j);
    j = decode_str("\"just a string\"");
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
    j = decode_str("9223372036854775807");
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
    /* Only the given length is read. */
    j = decode("[1]garbage", 3, 64);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_decref(j);
}

static void
test_percent_decode(void)
{
    pnk_arena_t *a = pnk_arena_new(0);
    CU_ASSERT_STRING_EQUAL(pnk_percent_decode(a, "a%20b+c%2Fd%2f", 14, false), "a b+c/d/");
    CU_ASSERT_STRING_EQUAL(pnk_percent_decode(a, "a%20b+c", 7, true), "a b c");
    CU_ASSERT_STRING_EQUAL(pnk_percent_decode(a, "%C3%A9", 6, false), "\xc3\xa9");
    CU_ASSERT_STRING_EQUAL(pnk_percent_decode(a, "abcdef", 3, false), "abc");
    CU_ASSERT_STRING_EQUAL(pnk_percent_decode(a, "", 0, false), "");
    CU_ASSERT_PTR_NULL(pnk_percent_decode(a, "%", 1, false));
    CU_ASSERT_PTR_NULL(pnk_percent_decode(a, "a%2", 3, false));
    CU_ASSERT_PTR_NULL(pnk_percent_decode(a, "%g0", 3, false));
    CU_ASSERT_PTR_NULL(pnk_percent_decode(a, "%0g", 3, false));
    CU_ASSERT_PTR_NULL(pnk_percent_decode(a, "a%00b", 5, false));
    /* The escape must fit inside n even when the string goes on. */
    CU_ASSERT_PTR_NULL(pnk_percent_decode(a, "a%41", 3, false));
    CU_ASSERT_PTR_NULL(pnk_percent_decode(a, "a\0b", 3, false));
    pnk_arena_free(a);
}

static void
test_query_parse(void)
{
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_query_pair_t *p;
    size_t n;

    CU_ASSERT_EQUAL(pnk_query_parse(a, "a=1&b=x+y%21&&c&d=&%41%2B=%26&=v&", 10, &p, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 6);
    CU_ASSERT_STRING_EQUAL(p[0].key, "a");
    CU_ASSERT_STRING_EQUAL(p[0].value, "1");
    CU_ASSERT_STRING_EQUAL(p[1].key, "b");
    CU_ASSERT_STRING_EQUAL(p[1].value, "x y!");
    CU_ASSERT_STRING_EQUAL(p[2].key, "c");
    CU_ASSERT_STRING_EQUAL(p[2].value, "");
    CU_ASSERT_STRING_EQUAL(p[3].key, "d");
    CU_ASSERT_STRING_EQUAL(p[3].value, "");
    CU_ASSERT_STRING_EQUAL(p[4].key, "A+");
    CU_ASSERT_STRING_EQUAL(p[4].value, "&");
    CU_ASSERT_STRING_EQUAL(p[5].key, "");
    CU_ASSERT_STRING_EQUAL(p[5].value, "v");

    /* A value may contain '='. */
    CU_ASSERT_EQUAL(pnk_query_parse(a, "t=a=b", 10, &p, &n), 0);
    CU_ASSERT_STRING_EQUAL(p[0].value, "a=b");

    CU_ASSERT_EQUAL(pnk_query_parse(a, "", 10, &p, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(pnk_query_parse(a, NULL, 10, &p, &n), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(pnk_query_parse(a, "&&&", 10, &p, &n), 0);
    CU_ASSERT_EQUAL(n, 0);

    CU_ASSERT_EQUAL(pnk_query_parse(a, "a=%zz", 10, &p, &n), -1);
    CU_ASSERT_EQUAL(pnk_query_parse(a, "a%=1", 10, &p, &n), -1);
    CU_ASSERT_EQUAL(pnk_query_parse(a, "a=%00", 10, &p, &n), -1);
    CU_ASSERT_EQUAL(n, 0);

    CU_ASSERT_EQUAL(pnk_query_parse(a, "a=1&b=2&c=3", 3, &p, &n), 0);
    CU_ASSERT_EQUAL(pnk_query_parse(a, "a=1&b=2&c=3&d=4", 3, &p, &n), -1);
    CU_ASSERT_EQUAL(n, 0);

    /* A huge query of separators and pairs is refused without allocating per pair. */
    static char big[100001];
    for (size_t i = 0; i + 1 < sizeof big; i += 2)
        memcpy(big + i, "a&", 2);
    size_t before = pnk_arena_used(a);
    CU_ASSERT_EQUAL(pnk_query_parse(a, big, 100, &p, &n), -1);
    CU_ASSERT_EQUAL(pnk_arena_used(a), before);
    pnk_arena_free(a);
}

void
register_decode_tests(void)
{
    CU_pSuite s = CU_add_suite("decode", NULL, NULL);
    CU_add_test(s, "depth_limit", test_decode_depth_limit);
    CU_add_test(s, "refusals", test_decode_refusals);
    CU_add_test(s, "accepts_values", test_decode_accepts_values);
    CU_add_test(s, "percent_decode", test_percent_decode);
    CU_add_test(s, "query_parse", test_query_parse);
}
