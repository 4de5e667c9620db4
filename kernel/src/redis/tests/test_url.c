/* URL parsing: what each form yields, and the malformed ones refused without echoing secrets. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "../redis_internal.h"

void register_url_tests(void);

static void
test_url_tcp_forms(void)
{
    pnk_redis_endpoint_t e;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(pnk_redis_url_parse("redis://127.0.0.1:6380/3", &e, err, sizeof err),
                          PN_OK);
    CU_ASSERT_STRING_EQUAL(e.host, "127.0.0.1");
    CU_ASSERT_EQUAL(e.port, 6380);
    CU_ASSERT_EQUAL(e.db, 3);
    CU_ASSERT_STRING_EQUAL(e.pass, "");
    CU_ASSERT_STRING_EQUAL(e.where, "127.0.0.1:6380");

    CU_ASSERT_EQUAL_FATAL(pnk_redis_url_parse("redis://:secret@localhost", &e, err, sizeof err),
                          PN_OK);
    CU_ASSERT_STRING_EQUAL(e.host, "localhost");
    CU_ASSERT_EQUAL(e.port, 6379);
    CU_ASSERT_EQUAL(e.db, 0);
    CU_ASSERT_STRING_EQUAL(e.user, "");
    CU_ASSERT_STRING_EQUAL(e.pass, "secret");
    CU_ASSERT_PTR_NULL(strstr(e.where, "secret"));

    CU_ASSERT_EQUAL_FATAL(
        pnk_redis_url_parse("REDIS://app:p%40ss%3A1@[::1]:7000/0", &e, err, sizeof err), PN_OK);
    CU_ASSERT_STRING_EQUAL(e.host, "::1");
    CU_ASSERT_EQUAL(e.port, 7000);
    CU_ASSERT_STRING_EQUAL(e.user, "app");
    CU_ASSERT_STRING_EQUAL(e.pass, "p@ss:1");
    CU_ASSERT_STRING_EQUAL(e.where, "[::1]:7000");

    CU_ASSERT_EQUAL(pnk_redis_url_parse("redis://h:1/", &e, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(e.db, 0);
}

static void
test_url_unix(void)
{
    pnk_redis_endpoint_t e;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(
        pnk_redis_url_parse("unix:///tmp/r.sock?db=4&password=pw", &e, err, sizeof err), PN_OK);
    CU_ASSERT_STRING_EQUAL(e.path, "/tmp/r.sock");
    CU_ASSERT_STRING_EQUAL(e.host, "");
    CU_ASSERT_EQUAL(e.db, 4);
    CU_ASSERT_STRING_EQUAL(e.pass, "pw");
    CU_ASSERT_STRING_EQUAL(e.where, "/tmp/r.sock");
    CU_ASSERT_EQUAL(pnk_redis_url_parse("unix:///tmp/r.sock", &e, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(e.db, 0);
}

static void
test_url_rejects_malformed(void)
{
    static const char *const bad[] = {
        "",
        "http://127.0.0.1/0",
        "rediss://127.0.0.1:6379/0",
        "redis://",
        "redis://:6379/0",
        "redis://h:0/0",
        "redis://h:65536/0",
        "redis://h:12x/0",
        "redis://h/abc",
        "redis://h/1/2",
        "redis://h/-1",
        "redis://user@h/0",
        "redis://:@h/0",
        "redis://h/1?timeout=3",
        "redis://:%zz@h/0",
        "redis://:a%00b@h/0",
        "redis://[::1/0",
        "redis://h o/0",
        "unix://relative.sock",
        "unix:///tmp/s?db=x",
        "unix:///tmp/s?foo=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pnk_redis_endpoint_t e;
        char err[200] = "";
        int rc = pnk_redis_url_parse(bad[i], &e, err, sizeof err);
        CU_ASSERT_EQUAL(rc, PN_E_INVALID);
        CU_ASSERT(err[0] != '\0');
        if (rc != PN_E_INVALID)
            fprintf(stderr, "accepted bad URL %s\n", bad[i]);
    }
    pnk_redis_endpoint_t e;
    CU_ASSERT_EQUAL(pnk_redis_url_parse(NULL, &e, NULL, 0), PN_E_INVALID);
}

void
register_url_tests(void)
{
    CU_pSuite s = CU_add_suite("redis_url", NULL, NULL);
    CU_add_test(s, "tcp forms", test_url_tcp_forms);
    CU_add_test(s, "unix socket", test_url_unix);
    CU_add_test(s, "rejects malformed", test_url_rejects_malformed);
}
