/* HS256 signing with OpenSSL's HMAC (libcrypto opened on first use: cryptoload.h); claims
 * built with Jansson so strings are escaped. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "cryptoload.h"
#include "jwt.h"
#include "wrandom.h"

char *
pnw_jwt_service(const char *secret, const char *iss, const char *aud, const char *sub, long now,
                int ttl)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"service\"}";
    unsigned char rnd[16], mac[32];
    char jti[37];
    if (!secret || !*secret || pnw_random(rnd, sizeof rnd) != 0)
        return NULL;
    /* A UUIDv4-shaped jti. */
    rnd[6] = (unsigned char)((rnd[6] & 0x0f) | 0x40);
    rnd[8] = (unsigned char)((rnd[8] & 0x3f) | 0x80);
    (void)snprintf(jti, sizeof jti,
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", rnd[0],
                   rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10],
                   rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", iss, "aud", aud, "typ",
                          "service", "sub", sub, "iat", (json_int_t)now, "nbf", (json_int_t)now,
                          "exp", (json_int_t)now + ttl, "jti", jti);
    char *claims = c ? json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(c);
    if (!claims)
        return NULL;
    size_t hl = strlen(header), cl = strlen(claims);
    size_t cap = 4 * ((hl + 2) / 3) + 4 * ((cl + 2) / 3) + (size_t)4 * ((sizeof mac + 2) / 3) + 4;
    char *tok = malloc(cap);
    if (!tok) {
        free(claims);
        return NULL;
    }
    size_t n = pnw_b64url((const unsigned char *)header, hl, tok);
    tok[n++] = '.';
    n += pnw_b64url((const unsigned char *)claims, cl, tok + n);
    free(claims);
    if (pnw_hmac_sha256(secret, tok, n, mac) != 0) {
        free(tok);
        return NULL;
    }
    tok[n++] = '.';
    pnw_b64url(mac, sizeof mac, tok + n);
    return tok;
}
