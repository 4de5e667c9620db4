/*
 * HS256 tokens on top of libjwt 1.10, which takes the algorithm from the token and checks no
 * claims: we parse the header and the claims ourselves (strict base64url, no duplicate JSON
 * members) and use libjwt only to sign and to check the MAC.
 */
#include "jwt.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <powernode/types.h>

#define DAY 86400
#define SIG_LEN 43              /* base64url of a 32-byte HMAC-SHA256, unpadded */
#define TIME_MAX 100000000000LL /* year 5138: larger times are refused before any arithmetic */

typedef struct jkey {
    char *kid;
    unsigned char *secret;
    size_t len;
    char typ[16];
    int64_t max_ttl;
} jkey_t;

struct pnk_jwt {
    char *issuer;
    char *audience;
    jkey_t *keys;
    size_t nkeys;
};

static bool
id_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ':' || c == '@'))
            return false;
    }
    return true;
}

static bool
typ_known(const char *typ)
{
    return typ &&
           (strcmp(typ, "access") == 0 || strcmp(typ, "service") == 0 || strcmp(typ, "mfa") == 0);
}

void
pnk_jwt_free(pnk_jwt_t *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->nkeys; i++) {
        free(j->keys[i].kid);
        if (j->keys[i].secret)
            OPENSSL_cleanse(j->keys[i].secret, j->keys[i].len);
        free(j->keys[i].secret);
    }
    free(j->keys);
    free(j->issuer);
    free(j->audience);
    free(j);
}

static int
copy_key(jkey_t *k, const pnk_jwt_key_t *src, char *err, size_t errlen)
{
    if (!id_ok(src->kid, PNK_JWT_ID_MAX) || strchr(src->kid, ':') || strchr(src->kid, '@')) {
        (void)snprintf(err, errlen, "jwt key id must be 1..%d of [A-Za-z0-9._-]", PNK_JWT_ID_MAX);
        return -1;
    }
    if (!src->secret || src->len < PNK_JWT_MIN_KEY || src->len > 4096) {
        (void)snprintf(err, errlen, "jwt key \"%s\" must be %d..4096 bytes, it is %zu", src->kid,
                       PNK_JWT_MIN_KEY, src->secret ? src->len : 0);
        return -1;
    }
    if (!typ_known(src->typ)) {
        (void)snprintf(err, errlen,
                       "jwt key \"%s\": type must be \"access\", \"service\" or \"mfa\"", src->kid);
        return -1;
    }
    if (src->max_ttl < 0 || src->max_ttl > (int64_t)366 * DAY) {
        (void)snprintf(err, errlen, "jwt key \"%s\": max_ttl out of range", src->kid);
        return -1;
    }
    k->kid = strdup(src->kid);
    k->secret = malloc(src->len);
    if (!k->kid || !k->secret) {
        (void)snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(k->secret, src->secret, src->len);
    k->len = src->len;
    (void)snprintf(k->typ, sizeof k->typ, "%s", src->typ);
    k->max_ttl = src->max_ttl ? src->max_ttl : DAY;
    return 0;
}

pnk_jwt_t *
pnk_jwt_new(const pnk_jwt_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->issuer || !*cfg->issuer || !cfg->audience || !*cfg->audience) {
        (void)snprintf(err, errlen, "jwt issuer and audience are required");
        return NULL;
    }
    if (!cfg->keys || cfg->nkeys == 0 || cfg->nkeys > 64) {
        (void)snprintf(err, errlen, "jwt needs 1..64 keys");
        return NULL;
    }
    pnk_jwt_t *j = calloc(1, sizeof *j);
    if (!j || !(j->keys = calloc(cfg->nkeys, sizeof *j->keys)) ||
        !(j->issuer = strdup(cfg->issuer)) || !(j->audience = strdup(cfg->audience))) {
        (void)snprintf(err, errlen, "out of memory");
        pnk_jwt_free(j);
        return NULL;
    }
    for (size_t i = 0; i < cfg->nkeys; i++) {
        j->nkeys = i + 1; /* so pnk_jwt_free releases what copy_key made */
        if (copy_key(&j->keys[i], &cfg->keys[i], err, errlen) != 0) {
            pnk_jwt_free(j);
            return NULL;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(j->keys[k].kid, j->keys[i].kid) == 0) {
                (void)snprintf(err, errlen, "jwt key id \"%s\" is used twice", j->keys[i].kid);
                pnk_jwt_free(j);
                return NULL;
            }
    }
    return j;
}

static const jkey_t *
find_kid(const pnk_jwt_t *j, const char *kid)
{
    for (size_t i = 0; i < j->nkeys; i++)
        if (strcmp(j->keys[i].kid, kid) == 0)
            return &j->keys[i];
    return NULL;
}

static const jkey_t *
signing_key(const pnk_jwt_t *j, const char *typ)
{
    for (size_t i = 0; i < j->nkeys; i++)
        if (strcmp(j->keys[i].typ, typ) == 0)
            return &j->keys[i];
    return NULL;
}

int
pnk_jwt_issue(const pnk_jwt_t *j, const char *typ, const char *sub, const char *acct,
              const char *jti, const char *sid, int64_t now, int64_t ttl, char **token, char *err,
              size_t errlen)
{
    *token = NULL;
    const jkey_t *k = typ_known(typ) ? signing_key(j, typ) : NULL;
    if (!k) {
        (void)snprintf(err, errlen, "no signing key for token type \"%s\"", typ ? typ : "");
        return PN_E_INVALID;
    }
    if (!id_ok(sub, PNK_JWT_ID_MAX) || !id_ok(jti, PNK_JWT_ID_MAX) ||
        (acct && !id_ok(acct, PNK_JWT_ID_MAX)) || (sid && !id_ok(sid, PNK_JWT_ID_MAX)) ||
        (strcmp(typ, "access") == 0 && !acct)) {
        (void)snprintf(err, errlen, "token sub, acct, sid or jti missing or malformed");
        return PN_E_INVALID;
    }
    if (ttl <= 0 || ttl > k->max_ttl || now < 0 || now > TIME_MAX) {
        (void)snprintf(err, errlen, "token lifetime %lld s outside 1..%lld", (long long)ttl,
                       (long long)k->max_ttl);
        return PN_E_INVALID;
    }

    jwt_t *t = NULL;
    int rc = jwt_new(&t);
    if (rc == 0)
        rc = jwt_set_alg(t, JWT_ALG_HS256, k->secret, (int)k->len);
    if (rc == 0)
        rc = jwt_add_header(t, "kid", k->kid);
    if (rc == 0)
        rc = jwt_add_grant(t, "iss", j->issuer);
    if (rc == 0)
        rc = jwt_add_grant(t, "aud", j->audience);
    if (rc == 0)
        rc = jwt_add_grant(t, "sub", sub);
    if (rc == 0 && acct)
        rc = jwt_add_grant(t, "acct", acct);
    if (rc == 0)
        rc = jwt_add_grant(t, "typ", typ);
    if (rc == 0)
        rc = jwt_add_grant_int(t, "iat", (long)now);
    if (rc == 0)
        rc = jwt_add_grant_int(t, "nbf", (long)now);
    if (rc == 0)
        rc = jwt_add_grant_int(t, "exp", (long)(now + ttl));
    if (rc == 0)
        rc = jwt_add_grant(t, "jti", jti);
    if (rc == 0 && sid)
        rc = jwt_add_grant(t, "sid", sid);
    if (rc == 0 && !(*token = jwt_encode_str(t)))
        rc = errno ? errno : ENOMEM;
    jwt_free(t);
    if (rc != 0) {
        (void)snprintf(err, errlen, "cannot sign token: %s", strerror(rc));
        return PN_E_INTERNAL;
    }
    return PN_OK;
}

/* ---- verification ---- */

static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Strict unpadded base64url into a malloc'd buffer: no padding, no whitespace, and the unused
 * low bits of the last character must be zero, so each byte string has exactly one encoding.
 * NULL when malformed. */
static unsigned char *
b64url_decode(const char *s, size_t n, size_t *outlen)
{
    if (n % 4 == 1)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {
        free(out);
        return NULL;
    }
    *outlen = o;
    return out;
}

static json_t *
decode_object(const char *s, size_t n)
{
    size_t len = 0;
    unsigned char *raw = b64url_decode(s, n, &len);
    if (!raw)
        return NULL;
    json_t *o = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (o && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int
refuse(char *why, size_t whylen, const char *reason)
{
    (void)snprintf(why, whylen, "%s", reason);
    return PN_E_UNAUTH;
}

/* Copy a string claim that must be a short id. */
static bool
claim_id(json_t *claims, const char *name, char *dst, size_t dstlen)
{
    const char *v = json_string_value(json_object_get(claims, name));
    if (!v || !id_ok(v, dstlen - 1) ||
        strlen(v) != json_string_length(json_object_get(claims, name)))
        return false;
    (void)snprintf(dst, dstlen, "%s", v);
    return true;
}

static bool
claim_time(json_t *claims, const char *name, int64_t *dst)
{
    json_t *v = json_object_get(claims, name);
    if (!json_is_integer(v))
        return false;
    json_int_t t = json_integer_value(v);
    if (t < 0 || t > TIME_MAX)
        return false;
    *dst = (int64_t)t;
    return true;
}

static bool
claim_equals(json_t *claims, const char *name, const char *want)
{
    json_t *v = json_object_get(claims, name);
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           strcmp(json_string_value(v), want) == 0;
}

static int
check_header(const pnk_jwt_t *j, const char *tok, size_t hlen, const jkey_t **key, char *why,
             size_t whylen)
{
    json_t *h = decode_object(tok, hlen);
    if (!h)
        return refuse(why, whylen, "header is not base64url JSON object");
    int rc = PN_OK;
    json_t *alg = json_object_get(h, "alg");
    json_t *typ = json_object_get(h, "typ");
    const char *kid = json_string_value(json_object_get(h, "kid"));
    if (!claim_equals(h, "alg", "HS256"))
        rc = refuse(why, whylen, json_is_string(alg) ? "algorithm not allowed" : "no algorithm");
    else if (typ && !claim_equals(h, "typ", "JWT"))
        rc = refuse(why, whylen, "header typ is not JWT");
    else if (json_object_get(h, "crit"))
        rc = refuse(why, whylen, "critical header extensions are not supported");
    else if (!kid)
        rc = refuse(why, whylen, "no key id");
    else if (!(*key = find_kid(j, kid)))
        rc = refuse(why, whylen, "unknown key id");
    json_decref(h);
    return rc;
}

static int
check_claims(const pnk_jwt_t *j, const jkey_t *k, json_t *c, int64_t now, pnk_jwt_claims_t *out,
             char *why, size_t whylen)
{
    if (!claim_equals(c, "iss", j->issuer))
        return refuse(why, whylen, "wrong issuer");
    if (!claim_equals(c, "aud", j->audience))
        return refuse(why, whylen, "wrong audience");
    if (!claim_equals(c, "typ", k->typ))
        return refuse(why, whylen, "wrong token type for its key");
    if (!claim_id(c, "sub", out->sub, sizeof out->sub))
        return refuse(why, whylen, "sub missing or malformed");
    if (!claim_id(c, "jti", out->jti, sizeof out->jti))
        return refuse(why, whylen, "jti missing or malformed");
    out->acct[0] = '\0';
    if (json_object_get(c, "acct") && !claim_id(c, "acct", out->acct, sizeof out->acct))
        return refuse(why, whylen, "acct malformed");
    if (strcmp(k->typ, "access") == 0 && !out->acct[0])
        return refuse(why, whylen, "acct missing");
    out->sid[0] = '\0';
    if (json_object_get(c, "sid") && !claim_id(c, "sid", out->sid, sizeof out->sid))
        return refuse(why, whylen, "sid malformed");
    if (!claim_time(c, "iat", &out->iat) || !claim_time(c, "nbf", &out->nbf) ||
        !claim_time(c, "exp", &out->exp))
        return refuse(why, whylen, "iat, nbf or exp missing or not an integer time");
    if (out->exp <= now - PNK_JWT_LEEWAY)
        return refuse(why, whylen, "expired");
    if (out->nbf > now + PNK_JWT_LEEWAY)
        return refuse(why, whylen, "not valid yet");
    if (out->iat > now + PNK_JWT_LEEWAY)
        return refuse(why, whylen, "issued in the future");
    if (out->exp <= out->iat || out->exp - out->iat > k->max_ttl)
        return refuse(why, whylen, "lifetime longer than allowed");
    (void)snprintf(out->typ, sizeof out->typ, "%s", k->typ);
    (void)snprintf(out->kid, sizeof out->kid, "%s", k->kid);
    return PN_OK;
}

int
pnk_jwt_verify(const pnk_jwt_t *j, const char *token, int64_t now, pnk_jwt_claims_t *out, char *why,
               size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!token || !*token)
        return refuse(why, whylen, "empty token");
    size_t len = strnlen(token, PNK_JWT_MAX_LEN + 1);
    if (len > PNK_JWT_MAX_LEN)
        return refuse(why, whylen, "token too long");

    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return refuse(why, whylen, "not three dot-separated parts");
    size_t hlen = (size_t)(d1 - token), plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - token);
    if (hlen == 0 || plen == 0)
        return refuse(why, whylen, "empty header or payload");
    if (slen != SIG_LEN)
        return refuse(why, whylen, "signature missing or of the wrong length");

    const jkey_t *k = NULL;
    int rc = check_header(j, token, hlen, &k, why, whylen);
    if (rc != PN_OK)
        return rc;

    /* Only now, with the algorithm pinned and the key chosen by us, may libjwt check the MAC. */
    jwt_t *t = NULL;
    if (jwt_decode(&t, token, k->secret, (int)k->len) != 0 || !t) {
        jwt_free(t);
        return refuse(why, whylen, "bad signature");
    }
    jwt_alg_t alg = jwt_get_alg(t);
    jwt_free(t);
    if (alg != JWT_ALG_HS256)
        return refuse(why, whylen, "algorithm not allowed");

    json_t *c = decode_object(d1 + 1, plen);
    if (!c)
        return refuse(why, whylen, "payload is not base64url JSON object");
    rc = check_claims(j, k, c, now, out, why, whylen);
    json_decref(c);
    if (rc != PN_OK)
        memset(out, 0, sizeof *out);
    return rc;
}
