/* Shared between the files of the auth area only. */
#ifndef PNK_AUTH_INT_H
#define PNK_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <powernode/host.h>

#include "jwt.h"

/* Verify a bearer token with the keys of pnk_auth_init; PN_E_UNAUTH with why when not
 * initialised. */
int pnk_auth_verify_token(const char *token, int64_t now, pnk_jwt_claims_t *out, char *why,
                          size_t whylen);

/* The token of "Bearer <token>" (scheme case-insensitive, RFC 6750 §2.1), or NULL. */
const char *pnk_auth_bearer(const char *h);

/* The key ring and access token lifetime set by pnk_auth_init (NULL before). */
const pnk_jwt_t *pnk_auth_ring(int *ttl);

/* Replace the registered permission names (sorted, malloc'd; ownership moves here). */
void pnk_auth_registry_set(char **names, size_t n);

/* The sign-in policy of pnk_auth_init, with the defaults filled in. */
typedef struct pnk_auth_policy {
    int refresh_ttl, session_max_age, lockout_threshold, lockout_seconds, rate_limit_ip,
        rate_limit_user;
    bool two_factor;                /* a master key is configured */
    unsigned char master_key[32];   /* seals TOTP secrets */
    unsigned char recovery_key[32]; /* HMAC key of recovery code hashes, from master_key */
} pnk_auth_policy_t;
const pnk_auth_policy_t *pnk_auth_policy(void);

/* Sign a second-step token (typ "mfa", PNK_AUTH_MFA_TTL) for a user who passed the password
 * step; *token is malloc'd. */
int pnk_auth_issue_mfa(const char *user_id, const char *account_id, char **token, char *err,
                       size_t errlen);

/* Route handlers of auth_session.c and auth_totp.c (the table is in auth_routes.c). */
int pnk_auth_route_refresh(pn_req_t *req);
int pnk_auth_route_logout(pn_req_t *req);
int pnk_auth_route_password(pn_req_t *req);
int pnk_auth_route_login_mfa(pn_req_t *req);
int pnk_auth_route_totp_setup(pn_req_t *req);
int pnk_auth_route_totp_enable(pn_req_t *req);
int pnk_auth_route_totp_disable(pn_req_t *req);

#endif
