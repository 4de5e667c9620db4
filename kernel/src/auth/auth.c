/*
 * The auth configuration: turns pnk_auth_config_t into a key ring and signs tokens with it.
 * Request handling is in auth_authn.c, token issuing in auth_issue.c, routes in auth_routes.c.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "jwt.h"

/* Set at start-up, read-only while requests run. */
static pnk_jwt_t *ring;
static int access_ttl = PNK_AUTH_ACCESS_TTL;
static char **registered; /* declared permission names, sorted */
static size_t nregistered;

int
pnk_auth_init(const pnk_auth_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->keys || cfg->nkeys == 0 || cfg->nkeys > 16) {
        snprintf(err, errlen, "auth: 1..16 signing keys are required");
        return PN_E_INVALID;
    }
    int ttl = cfg->access_ttl ? cfg->access_ttl : PNK_AUTH_ACCESS_TTL;
    if (ttl < 60 || ttl > PNK_AUTH_ACCESS_TTL_MAX) {
        snprintf(err, errlen, "auth: access token lifetime must be 60..%d seconds",
                 PNK_AUTH_ACCESS_TTL_MAX);
        return PN_E_INVALID;
    }
    bool service = cfg->service_secret && cfg->service_secret[0];
    pnk_jwt_key_t keys[17];
    size_t n = 0;
    for (size_t i = 0; i < cfg->nkeys; i++, n++) {
        const char *kid = cfg->keys[i].kid, *secret = cfg->keys[i].secret;
        if (kid && strcmp(kid, PNK_AUTH_SERVICE_KID) == 0) {
            snprintf(err, errlen, "auth: key id \"%s\" is reserved for service tokens", kid);
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

    char why[200];
    pnk_jwt_config_t jc = {
        .issuer = cfg->issuer, .audience = cfg->audience, .keys = keys, .nkeys = n};
    pnk_jwt_t *j = pnk_jwt_new(&jc, why, sizeof why);
    if (!j) {
        snprintf(err, errlen, "auth: %s", why);
        return PN_E_INVALID;
    }
    pnk_jwt_free(ring);
    ring = j;
    access_ttl = ttl;
    return PN_OK;
}

void
pnk_auth_fini(void)
{
    pnk_jwt_free(ring);
    ring = NULL;
    access_ttl = PNK_AUTH_ACCESS_TTL;
    pnk_auth_registry_set(NULL, 0);
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
        snprintf(why, whylen, "auth not initialised");
        memset(out, 0, sizeof *out);
        return PN_E_UNAUTH;
    }
    return pnk_jwt_verify(ring, token, now, out, why, whylen);
}
