/*
 * The auth configuration: turns pnk_auth_config_t into a key ring and signs tokens with it.
 * Request handling is in auth_authn.c, token issuing in auth_issue.c, routes in auth_routes.c.
 */
#include "auth.h"
#include "pcache.h"
#include "vcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "codec.h"
#include "jwt.h"

#include <openssl/crypto.h>

/* Set at start-up, read-only while requests run. */
static pnk_jwt_t *ring;
static int access_ttl = PNK_AUTH_ACCESS_TTL;
static char **registered; /* declared permission names, sorted */
static size_t nregistered;
static pnk_auth_policy_t policy;

/* Labels of the keys derived from configured ones, so no configured key is used twice. */
static const char mfa_label[] = "powernode mfa token key v1";
static const char recovery_label[] = "powernode recovery code key v1";

static int
in_range(const char *name, int v, int lo, int hi, char *err, size_t errlen)
{
    if (v >= lo && v <= hi)
        return 0;
    (void)snprintf(err, errlen, "auth: %s must be %d..%d, it is %d", name, lo, hi, v);
    return -1;
}

static int
read_policy(const pnk_auth_config_t *cfg, pnk_auth_policy_t *p, char *err, size_t errlen)
{
    *p = (pnk_auth_policy_t){
        .refresh_ttl = cfg->refresh_ttl ? cfg->refresh_ttl : PNK_AUTH_REFRESH_TTL,
        .session_max_age = cfg->session_max_age ? cfg->session_max_age : PNK_AUTH_SESSION_MAX_AGE,
        .lockout_threshold = cfg->lockout_threshold,
        .lockout_seconds = cfg->lockout_seconds ? cfg->lockout_seconds : PNK_AUTH_LOCKOUT_SECONDS,
        .rate_limit_ip = cfg->rate_limit_ip,
        .rate_limit_user = cfg->rate_limit_user,
    };
    if (in_range("refresh_ttl", p->refresh_ttl, 300, 366 * 86400, err, errlen) != 0 ||
        in_range("session_max_age", p->session_max_age, 300, 3660 * 86400, err, errlen) != 0 ||
        in_range("lockout_threshold", p->lockout_threshold, 0, 1000, err, errlen) != 0 ||
        in_range("lockout_seconds", p->lockout_seconds, 1, 86400, err, errlen) != 0 ||
        in_range("rate_limit_ip", p->rate_limit_ip, 0, 1000000, err, errlen) != 0 ||
        in_range("rate_limit_user", p->rate_limit_user, 0, 1000000, err, errlen) != 0)
        return -1;
    if (cfg->master_key && cfg->master_key[0]) {
        if (!pnk_codec_unhex(cfg->master_key, p->master_key, sizeof p->master_key)) {
            (void)snprintf(err, errlen,
                           "auth: master_key must be 64 hex digits (32 bytes; "
                           "`openssl rand -hex 32`)");
            return -1;
        }
        p->two_factor = true;
        pnk_codec_hmac256(p->master_key, sizeof p->master_key, recovery_label,
                          sizeof recovery_label - 1, p->recovery_key);
    }
    return 0;
}

int
pnk_auth_init(const pnk_auth_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->keys || cfg->nkeys == 0 || cfg->nkeys > 16) {
        (void)snprintf(err, errlen, "auth: 1..16 signing keys are required");
        return PN_E_INVALID;
    }
    int ttl = cfg->access_ttl ? cfg->access_ttl : PNK_AUTH_ACCESS_TTL;
    if (ttl < 60 || ttl > PNK_AUTH_ACCESS_TTL_MAX) {
        (void)snprintf(err, errlen, "auth: access token lifetime must be 60..%d seconds",
                       PNK_AUTH_ACCESS_TTL_MAX);
        return PN_E_INVALID;
    }
    bool service = cfg->service_secret && cfg->service_secret[0];
    pnk_auth_policy_t pol;
    if (read_policy(cfg, &pol, err, errlen) != 0)
        return PN_E_INVALID;
    pnk_jwt_key_t keys[18];
    size_t n = 0;
    for (size_t i = 0; i < cfg->nkeys; i++, n++) {
        const char *kid = cfg->keys[i].kid, *secret = cfg->keys[i].secret;
        if (kid && (strcmp(kid, PNK_AUTH_SERVICE_KID) == 0 || strcmp(kid, PNK_AUTH_MFA_KID) == 0)) {
            (void)snprintf(err, errlen, "auth: key id \"%s\" is reserved for service tokens", kid);
            return PN_E_INVALID;
        }
        keys[n] = (pnk_jwt_key_t){.kid = kid,
                                  .secret = (const unsigned char *)secret,
                                  .len = secret ? strlen(secret) : 0,
                                  .typ = "access",
                                  .max_ttl = ttl};
    }
    if (service)
        keys[n++] = (pnk_jwt_key_t){.kid = PNK_AUTH_SERVICE_KID,
                                    .secret = (const unsigned char *)cfg->service_secret,
                                    .len = strlen(cfg->service_secret),
                                    .typ = "service",
                                    .max_ttl = PNK_AUTH_SERVICE_TTL_MAX};
    /* Second-step tokens get a key derived from the signing key: a leaked mfa token's key
     * would sign nothing else, and there is no extra secret to configure. */
    unsigned char mfa_key[32];
    if (keys[0].secret && keys[0].len >= PNK_JWT_MIN_KEY) {
        pnk_codec_hmac256(keys[0].secret, keys[0].len, mfa_label, sizeof mfa_label - 1, mfa_key);
        keys[n++] = (pnk_jwt_key_t){.kid = PNK_AUTH_MFA_KID,
                                    .secret = mfa_key,
                                    .len = sizeof mfa_key,
                                    .typ = "mfa",
                                    .max_ttl = PNK_AUTH_MFA_TTL};
    }

    char why[200];
    pnk_jwt_config_t jc = {
        .issuer = cfg->issuer, .audience = cfg->audience, .keys = keys, .nkeys = n};
    pnk_jwt_t *j = pnk_jwt_new(&jc, why, sizeof why);
    OPENSSL_cleanse(mfa_key, sizeof mfa_key);
    if (!j) {
        OPENSSL_cleanse(&pol, sizeof pol);
        (void)snprintf(err, errlen, "auth: %s", why);
        return PN_E_INVALID;
    }
    pnk_jwt_free(ring);
    ring = j;
    pnk_vcache_clear(); /* tokens verified with the old keys must be verified again */
    access_ttl = ttl;
    policy = pol;
    OPENSSL_cleanse(&pol, sizeof pol);
    pnk_pcache_configure(cfg->principal_cache_seconds);
    return PN_OK;
}

void
pnk_auth_fini(void)
{
    pnk_jwt_free(ring);
    ring = NULL;
    pnk_vcache_clear();
    access_ttl = PNK_AUTH_ACCESS_TTL;
    OPENSSL_cleanse(&policy, sizeof policy);
    pnk_auth_registry_set(NULL, 0);
    pnk_pcache_stop();
}

const pnk_auth_policy_t *
pnk_auth_policy(void)
{
    return &policy;
}

const pnk_jwt_t *
pnk_auth_ring(int *ttl)
{
    if (ttl)
        *ttl = access_ttl;
    return ring;
}

void
pnk_auth_registry_set(char **names, size_t n)
{
    for (size_t i = 0; i < nregistered; i++)
        free(registered[i]);
    free(registered);
    registered = names;
    nregistered = n;
}

const char *const *
pnk_auth_registered_perms(size_t *n)
{
    *n = nregistered;
    return (const char *const *)registered;
}

int
pnk_auth_verify_token(const char *token, int64_t now, pnk_jwt_claims_t *out, char *why,
                      size_t whylen)
{
    if (!ring) {
        (void)snprintf(why, whylen, "auth not initialised");
        memset(out, 0, sizeof *out);
        return PN_E_UNAUTH;
    }
    if (pnk_vcache_get(token, now, out))
        return PN_OK;
    int rc = pnk_jwt_verify(ring, token, now, out, why, whylen);
    if (rc == PN_OK)
        pnk_vcache_put(token, out);
    return rc;
}
