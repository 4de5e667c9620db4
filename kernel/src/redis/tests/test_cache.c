/* Cache helpers: prefix, round trip, absence, TTLs, deletes and refused arguments. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../redis.h"
#include "helpers.h"

void register_cache_tests(void);

static long long
ttl_of(const char *full_key)
{
    const char *argv[] = {"TTL", full_key};
    json_t *r = NULL;
    if (pnk_redis_command(PNK_REDIS_CACHE, 2, argv, NULL, &r, NULL, 0) != PN_OK)
        return -100;
    long long v = json_integer_value(r);
    json_decref(r);
    return v;
}

static void
test_cache_round_trip(void)
{
    char *v = NULL;
    size_t n = 99;
    CU_ASSERT_EQUAL(pnk_cache_get("test:rt", &v, &n), PN_E_NOTFOUND);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(pnk_cache_set("test:rt", "v\0x", 3, 0), PN_OK);
    CU_ASSERT_EQUAL(pnk_cache_get("test:rt", &v, &n), PN_OK);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(memcmp(v, "v\0x", 4), 0); /* also NUL-terminated */
    free(v);
    /* Stored under the prefix. */
    const char *argv[] = {"EXISTS", "pn:cache:test:rt"};
    json_t *r = NULL;
    CU_ASSERT_EQUAL(pnk_redis_command(PNK_REDIS_CACHE, 2, argv, NULL, &r, NULL, 0), PN_OK);
    CU_ASSERT_EQUAL(json_integer_value(r), 1);
    json_decref(r);
    CU_ASSERT_EQUAL(ttl_of("pn:cache:test:rt"), -1);
    CU_ASSERT_EQUAL(pnk_cache_set("test:rt", "", 0, 0), PN_OK);
    CU_ASSERT_EQUAL(pnk_cache_get("test:rt", &v, NULL), PN_OK);
    CU_ASSERT_STRING_EQUAL(v, "");
    free(v);
    CU_ASSERT_EQUAL(pnk_cache_del("test:rt"), PN_OK);
    CU_ASSERT_EQUAL(pnk_cache_get("test:rt", &v, &n), PN_E_NOTFOUND);
    CU_ASSERT_EQUAL(pnk_cache_del("test:rt"), PN_OK); /* deleting nothing is fine */
}

static void
test_cache_ttl(void)
{
    CU_ASSERT_EQUAL(pnk_cache_set("test:ttl", "a", 1, 100), PN_OK);
    long long t = ttl_of("pn:cache:test:ttl");
    CU_ASSERT(t > 90 && t <= 100);
    /* A later set without TTL clears it, as SET does. */
    CU_ASSERT_EQUAL(pnk_cache_set("test:ttl", "b", 1, 0), PN_OK);
    CU_ASSERT_EQUAL(ttl_of("pn:cache:test:ttl"), -1);
    CU_ASSERT_EQUAL(pnk_cache_set("test:ttl", "c", 1, 1), PN_OK);
    char *v = NULL;
    int rc = PN_OK;
    double t0 = th_now();
    while ((rc = pnk_cache_get("test:ttl", &v, NULL)) == PN_OK && th_now() - t0 < 4.0) {
        free(v);
        v = NULL;
        th_sleep_ms(100);
    }
    CU_ASSERT_EQUAL(rc, PN_E_NOTFOUND);
    CU_ASSERT(th_now() - t0 >= 0.5);
    pnk_cache_del("test:ttl");
}

static void
test_cache_refuses_bad_arguments(void)
{
    char *v = NULL;
    CU_ASSERT_EQUAL(pnk_cache_set(NULL, "a", 1, 0), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_cache_set("", "a", 1, 0), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_cache_set("k", "a", 1, -1), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_cache_set("k", NULL, 1, 0), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_cache_get(NULL, &v, NULL), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_cache_get("k", NULL, NULL), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_cache_del(""), PN_E_INVALID);
    char big[1100];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(pnk_cache_set(big, "a", 1, 0), PN_E_INVALID);
}

static int
suite_init(void)
{
    return th_init();
}

static int
suite_clean(void)
{
    pnk_redis_shutdown();
    return 0;
}

void
register_cache_tests(void)
{
    CU_pSuite s = CU_add_suite("redis_cache", suite_init, suite_clean);
    CU_add_test(s, "round trip", test_cache_round_trip);
    CU_add_test(s, "ttl", test_cache_ttl);
    CU_add_test(s, "refuses bad arguments", test_cache_refuses_bad_arguments);
}
