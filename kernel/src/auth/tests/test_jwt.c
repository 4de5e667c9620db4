/* jwt.c: issue/verify round trips, rotation, and a catalogue of forged tokens that must each
 * be refused for the stated reason. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <powernode/types.h>

#include "../jwt.h"
#include "forge.h"

void register_jwt_tests(void);

#define NOW 1750000000LL
#define KEY1 "k1-secret-0123456789abcdef0123456789abcdef"
#define KEY0 "k0-secret-old-0123456789abcdef0123456789ab"
#define SKEY "service-secret-0123456789abcdef0123456789"
#define ISS "https://pn.test"
#define AUD "powernode"
#define USER "0190aaaa-0000-7000-8000-000000000001"
#define ACCT "0190aaaa-0000-7000-8000-0000000000a1"
#define JTI "0190aaaa-0000-7000-8000-00000000f001"

static pnk_jwt_t *ring; /* k1 signs access, k0 verifies, "service" for services */

static pnk_jwt_key_t
key(const char *kid, const char *secret, const char *typ, int64_t max_ttl)
{
    return (pnk_jwt_key_t){.kid = kid,
                           .secret = (const unsigned char *)secret,
                           .len = strlen(secret),
                           .typ = typ,
                           .max_ttl = max_ttl};
}

static pnk_jwt_t *
make_ring(const pnk_jwt_key_t *keys, size_t n, char *err, size_t errlen)
{
    pnk_jwt_config_t cfg = {.issuer = ISS, .audience = AUD, .keys = keys, .nkeys = n};
    return pnk_jwt_new(&cfg, err, errlen);
}

static int
setup(void)
{
    char err[128];
    pnk_jwt_key_t keys[3] = {key("k1", KEY1, "access", 3600), key("k0", KEY0, "access", 3600),
                             key("service", SKEY, "service", 3600)};
    ring = make_ring(keys, 3, err, sizeof err);
    return ring ? 0 : 1;
}

static int
teardown(void)
{
    pnk_jwt_free(ring);
    return 0;
}

/* Expect a refusal whose reason contains `reason`. */
static void
refused(const char *token, const char *reason, int line)
{
    pnk_jwt_claims_t c;
    char why[128] = "";
    int rc = pnk_jwt_verify(ring, token, NOW, &c, why, sizeof why);
    if (rc != PN_E_UNAUTH || !strstr(why, reason))
        fprintf(stderr, "\n  line %d: rc=%d why=\"%s\", wanted \"%s\"\n", line, rc, why, reason);
    CU_ASSERT_EQUAL(rc, PN_E_UNAUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, reason));
    CU_ASSERT_EQUAL(c.sub[0], '\0'); /* nothing leaks out of a refused token */
}
#define REFUSED(tok, reason) refused((tok), (reason), __LINE__)

#define forge_claims forge_token

static const char hdr_ok[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}";

static char *
payload(const char *iss, const char *aud, const char *typ, long long iat, long long nbf,
        long long exp)
{
    static char buf[512];
    snprintf(buf, sizeof buf,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"" USER "\",\"acct\":\"" ACCT
             "\",\"typ\":\"%s\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"jti\":\"" JTI "\"}",
             iss, aud, typ, iat, nbf, exp);
    return buf;
}

static char *
good_payload(void)
{
    return payload(ISS, AUD, "access", NOW, NOW, NOW + 900);
}

static void
test_jwt_config_checks(void)
{
    char err[160];
    pnk_jwt_key_t k = key("a", "0123456789abcdef0123456789abcde", "access", 0); /* 31 bytes */
    CU_ASSERT_PTR_NULL(make_ring(&k, 1, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "32..4096 bytes"));
    k = key("a", "0123456789abcdef0123456789abcdef", "access", 0); /* 32 bytes */
    pnk_jwt_t *j = make_ring(&k, 1, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(j);
    pnk_jwt_free(j);

    pnk_jwt_key_t dup[2] = {key("a", KEY1, "access", 0), key("a", KEY0, "access", 0)};
    CU_ASSERT_PTR_NULL(make_ring(dup, 2, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "used twice"));
    k = key("a", KEY1, "refresh", 0);
    CU_ASSERT_PTR_NULL(make_ring(&k, 1, err, sizeof err));
    k = key("bad kid", KEY1, "access", 0);
    CU_ASSERT_PTR_NULL(make_ring(&k, 1, err, sizeof err));
    k = key("", KEY1, "access", 0);
    CU_ASSERT_PTR_NULL(make_ring(&k, 1, err, sizeof err));
    CU_ASSERT_PTR_NULL(make_ring(NULL, 0, err, sizeof err));

    k = key("a", KEY1, "access", 0);
    pnk_jwt_config_t cfg = {.issuer = "", .audience = AUD, .keys = &k, .nkeys = 1};
    CU_ASSERT_PTR_NULL(pnk_jwt_new(&cfg, err, sizeof err));
    cfg = (pnk_jwt_config_t){.issuer = ISS, .audience = NULL, .keys = &k, .nkeys = 1};
    CU_ASSERT_PTR_NULL(pnk_jwt_new(&cfg, err, sizeof err));
}

static void
test_jwt_round_trip(void)
{
    char *tok = NULL, err[128], why[128];
    pnk_jwt_claims_t c;
    CU_ASSERT_EQUAL_FATAL(
        pnk_jwt_issue(ring, "access", USER, ACCT, JTI, NULL, NOW, 900, &tok, err, sizeof err),
        PN_OK);
    CU_ASSERT_EQUAL(pnk_jwt_verify(ring, tok, NOW + 10, &c, why, sizeof why), PN_OK);
    CU_ASSERT_STRING_EQUAL(c.sub, USER);
    CU_ASSERT_STRING_EQUAL(c.acct, ACCT);
    CU_ASSERT_STRING_EQUAL(c.jti, JTI);
    CU_ASSERT_STRING_EQUAL(c.typ, "access");
    CU_ASSERT_STRING_EQUAL(c.kid, "k1");
    CU_ASSERT_EQUAL(c.iat, NOW);
    CU_ASSERT_EQUAL(c.nbf, NOW);
    CU_ASSERT_EQUAL(c.exp, NOW + 900);
    /* The verifier also accepts what an independent implementation makes. */
    char *f = forge_claims(hdr_ok, good_payload(), KEY1, 256);
    CU_ASSERT_EQUAL(pnk_jwt_verify(ring, f, NOW, &c, why, sizeof why), PN_OK);
    free(f);
    free(tok);

    /* A service token: its own key, no account. */
    CU_ASSERT_EQUAL_FATAL(pnk_jwt_issue(ring, "service", "worker-1", NULL, JTI, NULL, NOW, 300,
                                        &tok, err, sizeof err),
                          PN_OK);
    CU_ASSERT_EQUAL(pnk_jwt_verify(ring, tok, NOW, &c, why, sizeof why), PN_OK);
    CU_ASSERT_STRING_EQUAL(c.typ, "service");
    CU_ASSERT_STRING_EQUAL(c.kid, "service");
    CU_ASSERT_STRING_EQUAL(c.sub, "worker-1");
    CU_ASSERT_STRING_EQUAL(c.acct, "");
    free(tok);
}

static void
test_jwt_issue_checks(void)
{
    char *tok = NULL, err[128];
    CU_ASSERT_EQUAL(
        pnk_jwt_issue(ring, "refresh", USER, ACCT, JTI, NULL, NOW, 60, &tok, err, sizeof err),
        PN_E_INVALID);
    CU_ASSERT_EQUAL(
        pnk_jwt_issue(ring, "access", USER, NULL, JTI, NULL, NOW, 60, &tok, err, sizeof err),
        PN_E_INVALID);
    CU_ASSERT_EQUAL(
        pnk_jwt_issue(ring, "access", "", ACCT, JTI, NULL, NOW, 60, &tok, err, sizeof err),
        PN_E_INVALID);
    CU_ASSERT_EQUAL(
        pnk_jwt_issue(ring, "access", "a\"b", ACCT, JTI, NULL, NOW, 60, &tok, err, sizeof err),
        PN_E_INVALID);
    CU_ASSERT_EQUAL(
        pnk_jwt_issue(ring, "access", USER, ACCT, JTI, NULL, NOW, 0, &tok, err, sizeof err),
        PN_E_INVALID);
    CU_ASSERT_EQUAL(
        pnk_jwt_issue(ring, "access", USER, ACCT, JTI, NULL, NOW, 3601, &tok, err, sizeof err),
        PN_E_INVALID);
    CU_ASSERT_PTR_NULL(tok);
}

static void
test_jwt_refuses_other_algorithms(void)
{
    const char *p = good_payload();
    char *t;
    /* alg none, with the empty signature it calls for and with a real-looking one. */
    t = forge_claims("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}", p, NULL, 0);
    REFUSED(t, "signature");
    free(t);
    t = forge_claims("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "algorithm not allowed");
    free(t);
    t = forge_claims("{\"alg\":\"None\",\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "algorithm not allowed");
    free(t);
    t = forge_claims("{\"alg\":\"hs256\",\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "algorithm not allowed");
    free(t);
    /* HS512 with its natural (longer) MAC, and with the header alone changed. */
    t = forge_claims("{\"alg\":\"HS512\",\"kid\":\"k1\"}", p, KEY1, 512);
    REFUSED(t, "signature");
    free(t);
    t = forge_claims("{\"alg\":\"HS512\",\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "algorithm not allowed");
    free(t);
    /* Key confusion: RS256 header, HMAC made with the secret. */
    t = forge_claims("{\"alg\":\"RS256\",\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "algorithm not allowed");
    free(t);
    t = forge_claims("{\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "no algorithm");
    free(t);
    t = forge_claims("{\"alg\":[\"HS256\"],\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "no algorithm");
    free(t);
    /* Duplicate members: a parser that keeps the first and one that keeps the last disagree. */
    t = forge_claims("{\"alg\":\"none\",\"alg\":\"HS256\",\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "header is not");
    free(t);
    t = forge_claims("{\"alg\":\"HS256\",\"kid\":\"k1\",\"crit\":[\"exp\"]}", p, KEY1, 256);
    REFUSED(t, "critical");
    free(t);
    t = forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWE\",\"kid\":\"k1\"}", p, KEY1, 256);
    REFUSED(t, "typ");
    free(t);
}

static void
test_jwt_refuses_wrong_keys(void)
{
    const char *p = good_payload();
    char *t = forge_claims(hdr_ok, p, "another-secret-0123456789abcdef0123456789", 256);
    REFUSED(t, "bad signature");
    free(t);
    t = forge_claims("{\"alg\":\"HS256\",\"kid\":\"k9\"}", p, KEY1, 256);
    REFUSED(t, "unknown key id");
    free(t);
    t = forge_claims("{\"alg\":\"HS256\"}", p, KEY1, 256);
    REFUSED(t, "no key id");
    free(t);
    t = forge_claims("{\"alg\":\"HS256\",\"kid\":7}", p, KEY1, 256);
    REFUSED(t, "no key id");
    free(t);
    /* The right key under the wrong kid. */
    t = forge_claims("{\"alg\":\"HS256\",\"kid\":\"k0\"}", p, KEY1, 256);
    REFUSED(t, "bad signature");
    free(t);
}

static void
test_jwt_refuses_bad_times(void)
{
    char *t;
    /* Expired, with the 30 s leeway: exp = now - 29 passes, now - 30 does not. */
    t = forge_claims(hdr_ok, payload(ISS, AUD, "access", NOW - 900, NOW - 900, NOW - 30), KEY1,
                     256);
    REFUSED(t, "expired");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, AUD, "access", NOW - 900, NOW - 900, NOW - 29), KEY1,
                     256);
    pnk_jwt_claims_t c;
    char why[128];
    CU_ASSERT_EQUAL(pnk_jwt_verify(ring, t, NOW, &c, why, sizeof why), PN_OK);
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, AUD, "access", NOW, NOW + 100, NOW + 900), KEY1, 256);
    REFUSED(t, "not valid yet");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, AUD, "access", NOW + 100, NOW, NOW + 900), KEY1, 256);
    REFUSED(t, "issued in the future");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, AUD, "access", NOW, NOW, NOW + 3601), KEY1, 256);
    REFUSED(t, "lifetime");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, AUD, "access", NOW, NOW, NOW), KEY1, 256);
    REFUSED(t, "lifetime");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, AUD, "access", -5, NOW, NOW + 60), KEY1, 256);
    REFUSED(t, "integer time");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, AUD, "access", NOW, NOW, 9223372036854775807LL), KEY1,
                     256);
    REFUSED(t, "integer time");
    free(t);

    const char *shapes[] = {
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" USER "\",\"acct\":\"" ACCT
        "\",\"typ\":\"access\",\"iat\":1750000000,\"nbf\":1750000000,\"jti\":\"x\"}",
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" USER "\",\"acct\":\"" ACCT
        "\",\"typ\":\"access\",\"iat\":1750000000,\"nbf\":1750000000,\"exp\":\"1750000900\","
        "\"jti\":\"x\"}",
        "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" USER "\",\"acct\":\"" ACCT
        "\",\"typ\":\"access\",\"iat\":1750000000,\"nbf\":1750000000,\"exp\":1750000900.5,"
        "\"jti\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        t = forge_claims(hdr_ok, shapes[i], KEY1, 256);
        REFUSED(t, "integer time");
        free(t);
    }
}

static void
test_jwt_refuses_wrong_claims(void)
{
    char *t;
    t = forge_claims(hdr_ok, payload("https://evil.test", AUD, "access", NOW, NOW, NOW + 60), KEY1,
                     256);
    REFUSED(t, "wrong issuer");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, "other", "access", NOW, NOW, NOW + 60), KEY1, 256);
    REFUSED(t, "wrong audience");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, "powernode2", "access", NOW, NOW, NOW + 60), KEY1, 256);
    REFUSED(t, "wrong audience");
    free(t);
    t = forge_claims(hdr_ok, payload(ISS, AUD, "refresh", NOW, NOW, NOW + 60), KEY1, 256);
    REFUSED(t, "wrong token type");
    free(t);
    /* A user key cannot mint a service token, nor the service key a user token. */
    t = forge_claims(hdr_ok, payload(ISS, AUD, "service", NOW, NOW, NOW + 60), KEY1, 256);
    REFUSED(t, "wrong token type");
    free(t);
    t = forge_claims("{\"alg\":\"HS256\",\"kid\":\"service\"}",
                     payload(ISS, AUD, "access", NOW, NOW, NOW + 60), SKEY, 256);
    REFUSED(t, "wrong token type");
    free(t);
    /* aud as an array is not the exact string we issue. */
    t = forge_claims(hdr_ok,
                     "{\"iss\":\"" ISS "\",\"aud\":[\"" AUD "\"],\"sub\":\"" USER
                     "\",\"acct\":\"" ACCT "\",\"typ\":\"access\",\"iat\":1750000000,"
                     "\"nbf\":1750000000,\"exp\":1750000600,\"jti\":\"x\"}",
                     KEY1, 256);
    REFUSED(t, "wrong audience");
    free(t);
    t = forge_claims(hdr_ok,
                     "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"acct\":\"" ACCT
                     "\",\"typ\":\"access\",\"iat\":1750000000,\"nbf\":1750000000,"
                     "\"exp\":1750000600,\"jti\":\"x\"}",
                     KEY1, 256);
    REFUSED(t, "sub missing");
    free(t);
    t = forge_claims(hdr_ok,
                     "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a b\",\"acct\":\"" ACCT
                     "\",\"typ\":\"access\",\"iat\":1750000000,\"nbf\":1750000000,"
                     "\"exp\":1750000600,\"jti\":\"x\"}",
                     KEY1, 256);
    REFUSED(t, "sub missing or malformed");
    free(t);
    t = forge_claims(hdr_ok,
                     "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" USER
                     "\",\"typ\":\"access\",\"iat\":1750000000,\"nbf\":1750000000,"
                     "\"exp\":1750000600,\"jti\":\"x\"}",
                     KEY1, 256);
    REFUSED(t, "acct missing");
    free(t);
    t = forge_claims(hdr_ok,
                     "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" USER
                     "\",\"acct\":\"" ACCT
                     "\",\"typ\":\"access\",\"iat\":1750000000,\"nbf\":1750000000,"
                     "\"exp\":1750000600}",
                     KEY1, 256);
    REFUSED(t, "jti missing");
    free(t);
    /* Duplicate claim: "sub" twice. */
    t = forge_claims(hdr_ok,
                     "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"x\",\"sub\":\"" USER
                     "\",\"acct\":\"" ACCT "\",\"typ\":\"access\",\"iat\":1750000000,"
                     "\"nbf\":1750000000,\"exp\":1750000600,\"jti\":\"x\"}",
                     KEY1, 256);
    REFUSED(t, "payload is not");
    free(t);
    t = forge_claims(hdr_ok, "[1,2,3]", KEY1, 256);
    REFUSED(t, "payload is not");
    free(t);
}

static void
test_jwt_refuses_tampering(void)
{
    char *tok = NULL, err[128];
    CU_ASSERT_EQUAL_FATAL(
        pnk_jwt_issue(ring, "access", USER, ACCT, JTI, NULL, NOW, 900, &tok, err, sizeof err),
        PN_OK);
    char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');

    /* The payload changed (expiry one second later), the original signature kept. */
    const char *later = payload(ISS, AUD, "access", NOW, NOW, NOW + 901);
    char *p2 = forge_b64url(later, strlen(later));
    char *t = malloc(strlen(tok) + strlen(p2) + 2);
    sprintf(t, "%.*s.%s%s", (int)(d1 - tok), tok, p2, d2);
    REFUSED(t, "bad signature");
    free(t);
    free(p2);

    /* One signature character changed. */
    t = strdup(tok);
    char *last = t + strlen(t) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    REFUSED(t, "bad signature");
    free(t);

    /* Truncations. */
    t = strdup(tok);
    t[strlen(t) - 1] = '\0';
    REFUSED(t, "signature missing or of the wrong length");
    free(t);
    t = strndup(tok, (size_t)(d2 - tok) + 1);
    REFUSED(t, "signature missing");
    free(t);
    t = strndup(tok, (size_t)(d2 - tok));
    REFUSED(t, "three dot-separated parts");
    free(t);
    t = strndup(tok, (size_t)(d1 - tok));
    REFUSED(t, "three dot-separated parts");
    free(t);
    /* A fourth part. */
    t = malloc(strlen(tok) + 3);
    sprintf(t, "%s.x", tok);
    REFUSED(t, "three dot-separated parts");
    free(t);
    /* Padding and non-canonical base64 in the header. */
    t = malloc(strlen(tok) + 3);
    sprintf(t, "%.*s==%s", (int)(d1 - tok), tok, d1);
    REFUSED(t, "header is not");
    free(t);
    free(tok);

    /* Stray low bits in the last header character: the same bytes under a second spelling,
     * which a strict decoder refuses. 26 bytes encode to 35 characters, the last carrying
     * two unused bits. */
    const char hdr26[] = "{\"alg\":\"HS256\",\"kid\":\"k1\"}";
    CU_ASSERT_EQUAL_FATAL(strlen(hdr26), 26);
    char *h = forge_b64url(hdr26, strlen(hdr26));
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *last_c = h + strlen(h) - 1;
    CU_ASSERT_EQUAL((strchr(tab, *last_c) - tab) & 3, 0);
    *last_c = tab[(strchr(tab, *last_c) - tab) + 1];
    char *pl = forge_b64url(good_payload(), strlen(good_payload()));
    t = malloc(strlen(h) + strlen(pl) + 50);
    sprintf(t, "%s.%s.%s", h, pl, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    REFUSED(t, "header is not");
    free(t);
    free(h);
    free(pl);
}

static void
test_jwt_refuses_garbage(void)
{
    REFUSED("", "empty token");
    REFUSED(NULL, "empty token");
    REFUSED("abc", "three dot-separated parts");
    REFUSED("..", "empty header or payload");
    REFUSED("a.b.c", "signature missing");
    REFUSED("....", "three dot-separated parts");
    REFUSED("eyJhbGciOiJIUzI1NiJ9.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "no key id");
    REFUSED("!!!!.????.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "header is not");
    REFUSED("bm90IGpzb24.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "header is not");
    REFUSED("Bearer x.y.z", "signature missing");

    /* Oversized: refused unread, even if the rest were fine. */
    size_t n = PNK_JWT_MAX_LEN + 100;
    char *big = malloc(n + 1);
    memset(big, 'A', n);
    big[n] = '\0';
    REFUSED(big, "token too long");
    /* A signed token whose claims make it just over the limit. */
    char *claims = malloc(PNK_JWT_MAX_LEN);
    int len = snprintf(claims, PNK_JWT_MAX_LEN,
                       "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"" USER
                       "\",\"acct\":\"" ACCT "\",\"typ\":\"access\",\"iat\":1750000000,"
                       "\"nbf\":1750000000,\"exp\":1750000600,\"jti\":\"x\",\"pad\":\"");
    while (len < PNK_JWT_MAX_LEN * 3 / 4 - 10)
        claims[len++] = 'p';
    strcpy(claims + len, "\"}");
    char *t = forge_claims(hdr_ok, claims, KEY1, 256);
    CU_ASSERT_TRUE(strlen(t) > PNK_JWT_MAX_LEN);
    REFUSED(t, "token too long");
    free(t);
    free(claims);
    free(big);
}

static void
test_jwt_rotation(void)
{
    char err[160], why[128], *old_tok = NULL, *new_tok = NULL;
    pnk_jwt_claims_t c;

    /* Before: k1 signs. */
    pnk_jwt_key_t before[1] = {key("k1", KEY1, "access", 3600)};
    pnk_jwt_t *a = make_ring(before, 1, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL_FATAL(
        pnk_jwt_issue(a, "access", USER, ACCT, JTI, NULL, NOW, 900, &old_tok, err, sizeof err),
        PN_OK);

    /* After: k2 first signs, k1 still verifies. */
    pnk_jwt_key_t after[2] = {
        key("k2", "k2-secret-fresh-0123456789abcdef012345678", "access", 3600),
        key("k1", KEY1, "access", 3600)};
    pnk_jwt_t *b = make_ring(after, 2, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(pnk_jwt_verify(b, old_tok, NOW + 60, &c, why, sizeof why), PN_OK);
    CU_ASSERT_STRING_EQUAL(c.kid, "k1");
    CU_ASSERT_EQUAL_FATAL(
        pnk_jwt_issue(b, "access", USER, ACCT, JTI, NULL, NOW, 900, &new_tok, err, sizeof err),
        PN_OK);
    CU_ASSERT_EQUAL(pnk_jwt_verify(b, new_tok, NOW + 60, &c, why, sizeof why), PN_OK);
    CU_ASSERT_STRING_EQUAL(c.kid, "k2");
    /* The old ring does not know k2. */
    CU_ASSERT_EQUAL(pnk_jwt_verify(a, new_tok, NOW + 60, &c, why, sizeof why), PN_E_UNAUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "unknown key id"));

    /* Finally: k1 retired, its tokens refused. */
    pnk_jwt_t *d = make_ring(after, 1, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(pnk_jwt_verify(d, old_tok, NOW + 60, &c, why, sizeof why), PN_E_UNAUTH);
    CU_ASSERT_EQUAL(pnk_jwt_verify(d, new_tok, NOW + 60, &c, why, sizeof why), PN_OK);

    free(old_tok);
    free(new_tok);
    pnk_jwt_free(a);
    pnk_jwt_free(b);
    pnk_jwt_free(d);
}

void
register_jwt_tests(void)
{
    CU_pSuite s = CU_add_suite("jwt", setup, teardown);
    CU_add_test(s, "config checks", test_jwt_config_checks);
    CU_add_test(s, "round trip", test_jwt_round_trip);
    CU_add_test(s, "issue checks", test_jwt_issue_checks);
    CU_add_test(s, "refuses other algorithms", test_jwt_refuses_other_algorithms);
    CU_add_test(s, "refuses wrong keys", test_jwt_refuses_wrong_keys);
    CU_add_test(s, "refuses bad times", test_jwt_refuses_bad_times);
    CU_add_test(s, "refuses wrong claims", test_jwt_refuses_wrong_claims);
    CU_add_test(s, "refuses tampering", test_jwt_refuses_tampering);
    CU_add_test(s, "refuses garbage", test_jwt_refuses_garbage);
    CU_add_test(s, "rotation", test_jwt_rotation);
}
