/*
 * Identity in the kernel: access and service tokens, the principal behind a request, the
 * permission registry in the database, the first admin, and the /api/v1/auth routes.
 * Token details are in jwt.h, password details in password.h.
 *
 * Threading: pnk_auth_init, pnk_auth_fini and pnk_auth_sync_permissions run at start-up on
 * one thread; everything else is safe from any handler thread afterwards.
 */
#ifndef PNK_AUTH_H
#define PNK_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <powernode/host.h>

#include "../app/request.h"
#include "../db/db.h"

/* The system roles seeded by sql/0001_core_identity.sql. */
#define PNK_ROLE_ADMIN_ID "01900000-0000-7000-8000-000000000001"
#define PNK_ROLE_MEMBER_ID "01900000-0000-7000-8000-000000000002"
#define PNK_ROLE_VIEWER_ID "01900000-0000-7000-8000-000000000003"

#define PNK_AUTH_ACCESS_TTL 900 /* default access token lifetime, seconds */
#define PNK_AUTH_ACCESS_TTL_MAX 86400
#define PNK_AUTH_SERVICE_KID "service"   /* kid of service tokens */
#define PNK_AUTH_SERVICE_TTL_MAX 3600    /* service tokens live at most an hour */
#define PNK_AUTH_MFA_KID "mfa"           /* kid of the second-step sign-in tokens */
#define PNK_AUTH_MFA_TTL 300             /* they live five minutes */
#define PNK_AUTH_REFRESH_TTL 2592000     /* default refresh token lifetime: 30 days */
#define PNK_AUTH_SESSION_MAX_AGE 7776000 /* default absolute session lifetime: 90 days */
#define PNK_AUTH_LOCKOUT_SECONDS 900     /* default lockout */

typedef struct pnk_auth_key {
    const char *kid;    /* [A-Za-z0-9._-]{1,64}, not "service" */
    const char *secret; /* the bytes of the string, >= 32 of them: `openssl rand -base64 48` */
} pnk_auth_key_t;

typedef struct pnk_auth_config {
    const char *issuer;   /* "iss" of every token, e.g. the server's public URL */
    const char *audience; /* "aud" of every token, e.g. "powernode" */
    /* Access token keys. keys[0] signs; the others only verify, so a rotated-out key keeps
     * its tokens valid until they expire (at most access_ttl). */
    const pnk_auth_key_t *keys;
    size_t nkeys;
    int access_ttl; /* seconds; 0 = PNK_AUTH_ACCESS_TTL, at most PNK_AUTH_ACCESS_TTL_MAX */
    /* Shared with the workers, which sign their own service tokens with it: HS256, header
     * kid "service", claims iss, aud, typ "service", sub (the worker's name), iat, nbf, exp
     * (at most an hour after iat), jti. NULL or "" accepts no service token. A separate key,
     * so a leaked worker secret cannot mint user tokens and a user key cannot mint services. */
    const char *service_secret;
    /* Two-factor secrets are sealed (AES-256-GCM) under this key: 64 hex digits, 32 bytes.
     * NULL or "" turns two-factor off (its routes answer 503); anything else malformed is
     * refused. Losing it makes every enrolled authenticator useless. */
    const char *master_key;
    int refresh_ttl; /* seconds; 0 = PNK_AUTH_REFRESH_TTL */
    /* Seconds a sign-in session lives however often it is refreshed; 0 =
     * PNK_AUTH_SESSION_MAX_AGE. */
    int session_max_age;
    int lockout_threshold; /* consecutive sign-in failures that lock an account; 0 = never */
    int lockout_seconds;   /* 0 = PNK_AUTH_LOCKOUT_SECONDS */
    int rate_limit_ip;     /* login, refresh and mfa requests per client IP per minute; 0 = off */
    int rate_limit_user;   /* authenticated requests per user or API key per minute; 0 = off */
    /* Seconds a user's principal may be served from the in-process cache (pcache.h); 0 turns
     * the cache off. Changes through the API apply at once everywhere regardless. */
    double principal_cache_seconds;
} pnk_auth_config_t;

/* Check the configuration (issuer, audience, key lengths >= 32 bytes, unique kids, the master
 * key's shape, the limits' ranges) and make it current, replacing an earlier one. PN_OK, or
 * PN_E_INVALID with the reason in err. */
int pnk_auth_init(const pnk_auth_config_t *cfg, char *err, size_t errlen);
void pnk_auth_fini(void);

/*
 * Establish req->principal for req->route. Public routes: anonymous, PN_OK, the header is not
 * read. Otherwise `Authorization: Bearer <jwt>` must carry a valid token: a service token only
 * on PN_ROUTE_SERVICE routes ("user token required" otherwise) and an access token only on the
 * others ("service token required" on service routes). For an access token the user and its
 * account must be active; their permissions are loaded (sorted, in the request arena).
 * An API key (`Authorization: Bearer pnk_<prefix>_<secret>` or `X-API-Key: pnk_...`) makes an
 * APIKEY principal acting for its owner with the key's permissions that the owner still
 * holds (see apikey.h); it is refused on service routes.
 * Before the database is asked, one Redis round trip (cache target) checks the access token's
 * jti against the logout denylist and counts the user's requests of this minute; API keys
 * are counted after they are found. Redis down means PN_E_UNAVAILABLE: no request gets in
 * without the denylist check.
 * Returns PN_OK, or the code from pnk_fail: PN_E_UNAUTH (a WWW-Authenticate header is added;
 * the reason goes to the log, never the token), PN_E_RATELIMIT (with Retry-After),
 * PN_E_UNAVAILABLE / PN_E_INTERNAL from the database or Redis.
 */
int pnk_auth_authenticate(pn_req_t *req);

/* After authentication: PN_OK when the route needs no permission or the principal holds it,
 * else PN_E_FORBIDDEN via pnk_fail ("permission <perm> required"). */
int pnk_auth_authorize(pn_req_t *req);

/* Whether p holds perm. False for anonymous and service principals and for a NULL perm. */
bool pnk_principal_can(const pnk_principal_t *p, const char *perm);

/* Sign an access token for a user (the login route; tests). session is the refresh family it
 * belongs to (NULL: none), so signing that session out ends its access tokens too. *token is
 * malloc'd; *expires_in (may be NULL) gets the lifetime in seconds; jti_out (may be NULL) the
 * token id. */
int pnk_auth_issue_access(const char *user_id, const char *account_id, const char *session,
                          char **token, int *expires_in, char jti_out[37], char *err,
                          size_t errlen);
/* Sign a service token the way a worker does (tests and tools). ttl in seconds. */
int pnk_auth_issue_service(const char *name, int ttl, char **token, char *err, size_t errlen);

/* The kernel's auth routes (login, login/mfa, refresh, logout, password, the totp routes, me,
 * internal/ping) and the permissions kernel routes use. */
extern const pn_route_t pnk_auth_routes[];
extern const pn_perm_t pnk_auth_perms[];

/*
 * Upsert the permission registry: perms[i] is one declared permission and owners[i] its owner
 * ("kernel" or a plugin name); owners NULL records all of them as the kernel's. A name given
 * twice or not shaped <ns>.<resource>.<verb> is an error. Then grant the system roles their
 * share of the declared permissions (never revoking anything):
 *   - member: every permission outside the "admin." namespace;
 *   - viewer: those of the member's that end in ".read", and the self-service namespace
 *     "auth.self." (signing out, one's own password and two-factor), so viewer is a subset of
 *     member and never sees administration;
 *   - admin:  all of them through roles.all_permissions, no rows needed.
 * Rows of permissions no longer declared stay (and keep their grants, so re-enabling a plugin
 * restores them), but the process remembers the declared set as "the registered permissions"
 * (what /auth/me lists for admin). One transaction. PN_OK, or a code with err.
 * Header change: `owners` was added to the planned signature, since pn_perm_t has no owner
 * and a permission's namespace is not always its owner ("admin.*" is the kernel's).
 */
int pnk_auth_sync_permissions(pnk_db_pool_t *p, const pn_perm_t *const *perms,
                              const char *const *owners, size_t n, char *err, size_t errlen);

/* The names declared at the last sync, sorted; *n gets the count. Valid until the next sync. */
const char *const *pnk_auth_registered_perms(size_t *n);

/*
 * Create the first administrator, in one transaction: the core-mode account (the oldest
 * account, or a new one named "Default", slug "default", when there is none) and in it a user
 * with `email` and the admin role. If a user with that email already exists in the account,
 * nothing changes and *created = false. With password NULL a password is generated into
 * `generated` (gen_len >= 21) for the caller to show once; otherwise it must pass the policy.
 * PN_OK, PN_E_INVALID (email or password), or a database code, with err.
 */
int pnk_auth_create_admin(pnk_db_pool_t *p, const char *email, const char *password,
                          char *generated, size_t gen_len, bool *created, char *err, size_t errlen);

#endif
