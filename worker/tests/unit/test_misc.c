/* Service tokens, circuit breakers, runaway detection, run history and Redis URLs. */
#include <CUnit/CUnit.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "breaker.h"
#include "cryptoload.h"
#include "jwt.h"
#include "suites.h"
#include "track.h"
#include "wredis.h"

static json_t *
b64_json(const char *s, size_t n)
{
    /* base64url decode through a translation to standard base64. */
    char buf[2048];
    size_t i = 0;
    for (; i < n && i < sizeof buf - 4; i++)
        buf[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (i % 4)
        buf[i++] = '=';
    buf[i] = '\0';
    unsigned char out[2048];
    int len = EVP_DecodeBlock(out, (unsigned char *)buf, (int)i);
    if (len < 0)
        return NULL;
    while (len > 0 && out[len - 1] == '\0')
        len--;
    return json_loadb((char *)out, (size_t)len, 0, NULL);
}

static void
test_jwt(void)
{
    const char *secret = "0123456789abcdef0123456789abcdef";
    char *t = pnw_jwt_service(secret, "powernode", "powernode-api", "worker-1", 1000, 300);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    char *d1 = strchr(t, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(d2);
    json_t *h = b64_json(t, (size_t)(d1 - t));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(h, "alg")), "HS256");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(h, "kid")), "service");
    json_decref(h);
    json_t *c = b64_json(d1 + 1, (size_t)(d2 - d1 - 1));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "typ")), "service");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "sub")), "worker-1");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "aud")), "powernode-api");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "exp")), 1300);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "nbf")), 1000);
    CU_ASSERT_EQUAL(json_string_length(json_object_get(c, "jti")), 36);
    json_decref(c);
    /* The signature is HMAC-SHA256 over header.claims. */
    unsigned char mac[32];
    unsigned int ml = 0;
    HMAC(EVP_sha256(), secret, 32, (unsigned char *)t, (size_t)(d2 - t), mac, &ml);
    char sig[64];
    pnw_b64url(mac, ml, sig);
    CU_ASSERT_STRING_EQUAL(d2 + 1, sig);
    free(t);
    CU_ASSERT_PTR_NULL(pnw_jwt_service("", "i", "a", "s", 1, 1));
}

/* base64 with padding as OpenSSL writes it (the bad-payload record's pn_raw_b64), for every
 * length remainder; SHA-1 and SHA-256 through the libcrypto the worker opens on first use,
 * against OpenSSL linked here. */
static void
test_b64_and_digests(void)
{
    unsigned char in[70], want[128];
    char got[128];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof in; n++) {
        int wl = EVP_EncodeBlock(want, in, (int)n);
        CU_ASSERT_EQUAL(pnw_b64(in, n, got), (size_t)wl);
        CU_ASSERT_STRING_EQUAL(got, (char *)want);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(pnw_crypto(NULL, 0));
    unsigned char d[20], ref[32];
    CU_ASSERT_EQUAL(pnw_sha1("abc", 3, d), 0);
    SHA1((const unsigned char *)"abc", 3, ref);
    CU_ASSERT_EQUAL(memcmp(d, ref, 20), 0);
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 5000; i++)
        (void)fputs("powernode ", f);
    (void)fflush(f);
    rewind(f);
    char hex[65], rhex[65];
    CU_ASSERT_EQUAL(pnw_sha256_fd(fileno(f), hex), 0);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (int i = 0; i < 5000; i++)
        EVP_DigestUpdate(md, "powernode ", 10);
    EVP_DigestFinal_ex(md, ref, NULL);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 32; i++)
        (void)snprintf(rhex + 2 * i, 3, "%02x", ref[i]);
    CU_ASSERT_STRING_EQUAL(hex, rhex);
    (void)fclose(f);
    CU_ASSERT_EQUAL(pnw_sha256_fd(-1, hex), -1);
}

static void
test_breaker(void)
{
    pnw_breakers_t *b = pnw_breakers_new(3, 1);
    double t = 100;
    CU_ASSERT(pnw_breaker_allow(b, "backend", t));
    for (int i = 0; i < 3; i++)
        pnw_breaker_report(b, "backend", false, t);
    CU_ASSERT(!pnw_breaker_allow(b, "backend", t + 1));
    CU_ASSERT(pnw_breaker_allow(b, "web_auth", t + 1)); /* kept apart */
    CU_ASSERT(!pnw_breaker_allow(b, "backend", t + 119));
    CU_ASSERT(pnw_breaker_allow(b, "backend", t + 121));  /* the half-open probe */
    CU_ASSERT(!pnw_breaker_allow(b, "backend", t + 121)); /* only one */
    pnw_breaker_report(b, "backend", false, t + 122);     /* probe failed: open again */
    CU_ASSERT(!pnw_breaker_allow(b, "backend", t + 200));
    CU_ASSERT(pnw_breaker_allow(b, "backend", t + 243));
    pnw_breaker_report(b, "backend", true, t + 243);
    CU_ASSERT(pnw_breaker_allow(b, "backend", t + 243));
    CU_ASSERT_DOUBLE_EQUAL(pnw_breaker_cooldown("ai_provider"), 600, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(pnw_breaker_cooldown("mission"), 600, 1e-9);
    for (int i = 0; i < 3; i++)
        pnw_breaker_report(b, "ai_provider", false, t);
    CU_ASSERT(!pnw_breaker_allow(b, "ai_provider", t + 599));
    json_t *j = pnw_breakers_json(b, t + 1);
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(j, "ai_provider"), "state")), "open");
    json_decref(j);
    pnw_breakers_free(b);
}

static void
test_runaway(void)
{
    pnw_track_t *t = pnw_track_new(2, 5, 60, 300);
    json_t *a = json_loads("[1]", 0, NULL), *other = json_loads("[2]", 0, NULL);
    bool newly;
    for (int i = 0; i < 5; i++)
        CU_ASSERT_DOUBLE_EQUAL(pnw_track_runaway(t, "A", a, 1000 + i, &newly), 0, 1e-9);
    /* The sixth run inside a minute disables it for 5 minutes, once. */
    CU_ASSERT_DOUBLE_EQUAL(pnw_track_runaway(t, "A", a, 1010, &newly), 1310, 1e-9);
    CU_ASSERT(newly);
    CU_ASSERT_DOUBLE_EQUAL(pnw_track_runaway(t, "A", a, 1011, &newly), 1310, 1e-9);
    CU_ASSERT(!newly);
    /* Other args and other classes are unaffected. */
    CU_ASSERT_DOUBLE_EQUAL(pnw_track_runaway(t, "A", other, 1011, &newly), 0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(pnw_track_runaway(t, "B", a, 1011, &newly), 0, 1e-9);
    json_t *d = pnw_track_disabled_json(t, 1011);
    CU_ASSERT_EQUAL(json_object_size(d), 1);
    json_decref(d);
    CU_ASSERT_DOUBLE_EQUAL(pnw_track_runaway(t, "A", a, 1311, &newly), 0, 1e-9);
    /* Spread out runs never trip it. */
    for (int i = 0; i < 50; i++)
        CU_ASSERT_DOUBLE_EQUAL(pnw_track_runaway(t, "C", a, 5000 + 13.0 * i, &newly), 0, 1e-9);
    /* The fleet-wide share: nothing for a run seen once in the window, the first two together
     * at the second, then one each; a gap longer than the window starts again. */
    json_t *f = json_loads("[\"fleet\"]", 0, NULL);
    uint64_t dg;
    char label[96];
    int share, expect[] = {0, 2, 1, 1};
    for (int i = 0; i < 4; i++) {
        pnw_track_check(t, "D", f, 7000 + i, &newly, &dg, label, sizeof label, &share);
        CU_ASSERT_EQUAL(share, expect[i]);
    }
    pnw_track_check(t, "D", f, 7100, &newly, &dg, label, sizeof label, &share);
    CU_ASSERT_EQUAL(share, 0);
    CU_ASSERT_STRING_EQUAL(label, "D [\"fleet\"]");
    json_decref(f);
    /* Run history: last 20, newest first. */
    for (int i = 0; i < 25; i++)
        pnw_track_run(t, 1, i, i * 2.0, i % 2 ? "error" : "ok");
    const char *names[] = {"A", "B"};
    json_t *r = pnw_track_runs_json(t, names);
    json_t *b = json_object_get(r, "B");
    CU_ASSERT_EQUAL(json_array_size(b), 20);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(json_array_get(b, 0), "start")), 24,
                           1e-9);
    CU_ASSERT_PTR_NULL(json_object_get(r, "A"));
    json_decref(r);
    pnw_track_count(t, "x", 2);
    pnw_track_count(t, "x", 3);
    json_t *cn = pnw_track_take_counters(t);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(cn, "x")), 5);
    json_decref(cn);
    cn = pnw_track_take_counters(t);
    CU_ASSERT_EQUAL(json_object_size(cn), 0);
    json_decref(cn);
    json_decref(a);
    json_decref(other);
    pnw_track_free(t);
}

static void
test_redis_url(void)
{
    pnw_redis_addr_t a;
    char err[200];
    CU_ASSERT_EQUAL(pnw_redis_addr_parse("redis://127.0.0.1:6390/0", "", &a, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(a.host, "127.0.0.1");
    CU_ASSERT_EQUAL(a.port, 6390);
    CU_ASSERT_EQUAL(a.db, 1); /* the queue database */
    CU_ASSERT_EQUAL(pnw_redis_addr_parse("x", "redis://u:p%40ss@h:1/5", &a, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(a.password, "p@ss");
    CU_ASSERT_STRING_EQUAL(a.user, "u");
    CU_ASSERT_EQUAL(a.db, 5);
    CU_ASSERT_EQUAL(pnw_redis_addr_parse("unix:///tmp/r.sock?db=3", NULL, &a, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(a.path, "/tmp/r.sock");
    CU_ASSERT_EQUAL(pnw_redis_addr_parse("http://x", NULL, &a, err, sizeof err), -1);
    CU_ASSERT_EQUAL(pnw_redis_addr_parse("redis://h:99999/0", NULL, &a, err, sizeof err), -1);
    CU_ASSERT_EQUAL(pnw_redis_addr_parse("redis://h:1/x", NULL, &a, err, sizeof err), -1);
    CU_ASSERT_EQUAL(pnw_redis_addr_parse("redis://u:%4@h:1/1", NULL, &a, err, sizeof err), -1);
}

void
add_misc_tests(void)
{
    CU_pSuite s = CU_add_suite("misc", NULL, NULL);
    CU_add_test(s, "service JWT", test_jwt);
    CU_add_test(s, "base64 and digests", test_b64_and_digests);
    CU_add_test(s, "circuit breakers", test_breaker);
    CU_add_test(s, "runaway detection and run history", test_runaway);
    CU_add_test(s, "redis URLs", test_redis_url);
}
