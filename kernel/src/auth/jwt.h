/*
 * HS256 JSON Web Tokens: issue and verify, with key rotation. libjwt 1.10 signs and checks the
 * MAC; everything it does not do is done here (RFC 8725): the header is read first and only
 * "alg":"HS256" with a known "kid" goes on, and the claims are checked after the MAC.
 * Each key serves one token type ("access", "service" or the second-step "mfa"), so a key
 * cannot mint another kind.
 * A pnk_jwt_t is immutable after pnk_jwt_new and safe to share between threads.
 */
#ifndef PNK_JWT_H
#define PNK_JWT_H

#include <stddef.h>
#include <stdint.h>

#define PNK_JWT_MAX_LEN 8192 /* longer tokens are refused unread */
#define PNK_JWT_MIN_KEY 32   /* bytes of secret, RFC 7518 §3.2 for HS256 */
#define PNK_JWT_LEEWAY 30    /* seconds of clock skew allowed on exp, nbf and iat */
#define PNK_JWT_ID_MAX 64    /* longest kid, sub, acct and jti */

typedef struct pnk_jwt_key {
    const char *kid;             /* 1..64 of [A-Za-z0-9._-], unique */
    const unsigned char *secret; /* copied */
    size_t len;                  /* >= PNK_JWT_MIN_KEY */
    const char *typ; /* the token type it signs and verifies: "access", "service" or "mfa" */
    int64_t max_ttl; /* longest exp - iat accepted, seconds; 0 = one day */
} pnk_jwt_key_t;

typedef struct pnk_jwt_config {
    const char *issuer;   /* "iss", compared exactly */
    const char *audience; /* "aud", a string compared exactly */
    /* The first key of each type signs new tokens of that type; the others only verify
     * (rotation: put the new key first and keep the old one until its tokens expire). */
    const pnk_jwt_key_t *keys;
    size_t nkeys;
} pnk_jwt_config_t;

typedef struct pnk_jwt pnk_jwt_t;

/* What a verified token says. */
typedef struct pnk_jwt_claims {
    char kid[PNK_JWT_ID_MAX + 1];
    char typ[16];
    char sub[PNK_JWT_ID_MAX + 1];
    char acct[PNK_JWT_ID_MAX + 1]; /* "" when the token has none (service tokens) */
    char jti[PNK_JWT_ID_MAX + 1];
    char sid[PNK_JWT_ID_MAX + 1]; /* the sign-in session (refresh family); "" when none */
    int64_t iat, nbf, exp;
} pnk_jwt_claims_t;

/* Check and copy the configuration. NULL with the reason in err (a short key, a duplicate kid,
 * an unknown type, no issuer). */
pnk_jwt_t *pnk_jwt_new(const pnk_jwt_config_t *cfg, char *err, size_t errlen);
void pnk_jwt_free(pnk_jwt_t *j);

/*
 * Sign a token of type typ with that type's current key: header {alg HS256, typ JWT, kid},
 * claims iss, aud, sub, acct and sid (each when not NULL), typ, iat = nbf = now,
 * exp = now + ttl, jti.
 * *token is malloc'd (free it). PN_OK, PN_E_INVALID (no key for typ, bad ids, ttl out of
 * the key's range) or PN_E_INTERNAL, with err.
 */
int pnk_jwt_issue(const pnk_jwt_t *j, const char *typ, const char *sub, const char *acct,
                  const char *jti, const char *sid, int64_t now, int64_t ttl, char **token,
                  char *err, size_t errlen);

/*
 * Verify token at time now (Unix seconds). Order: length and shape, header (alg exactly HS256,
 * no "crit", known kid), MAC with that kid's key (libjwt), then claims: iss, aud, typ equal to
 * the key's type, sub and jti present, acct present for "access", integer iat/nbf/exp with
 * nbf <= now + leeway, exp > now - leeway, iat <= now + leeway, 0 < exp - iat <= max_ttl.
 * PN_OK with *out filled, or PN_E_UNAUTH with a reason for the log in why (never the token).
 */
int pnk_jwt_verify(const pnk_jwt_t *j, const char *token, int64_t now, pnk_jwt_claims_t *out,
                   char *why, size_t whylen);

#endif
