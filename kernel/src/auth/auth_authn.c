/*
 * Authentication of one request: the bearer token or API key, the route kind (user or
 * service), the denylist and rate limit in Redis, and the principal: from the database, or
 * from the short-lived cache that every identity change through the API empties (pcache.h).
 * Authorization against the route's permission is the last step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apikey.h"
#include "auth.h"
#include "auth_int.h"
#include "guard.h"
#include "pcache.h"

#include "../core/log.h"

static const char sql_user[] =
    "SELECT u.email,"
    "       EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
    "                WHERE ur.user_id = u.id AND r.all_permissions"
    "                  AND (r.account_id IS NULL OR r.account_id = u.account_id)) AS all_perms"
    "  FROM users u JOIN accounts a ON a.id = u.account_id"
    " WHERE u.id = $1 AND u.account_id = $2 AND u.status = 'active' AND a.status = 'active'";

/* A role of another account is ignored even if someone managed to assign it. */
static const char sql_perms[] =
    "SELECT DISTINCT rp.permission"
    "  FROM user_roles ur"
    "  JOIN roles r ON r.id = ur.role_id AND (r.account_id IS NULL OR r.account_id = $2)"
    "  JOIN role_permissions rp ON rp.role_id = r.id"
    " WHERE ur.user_id = $1";

static int
refuse(pn_req_t *req, const char *challenge, const char *msg, const char *why)
{
    (void)pnk_reply_header(req, "WWW-Authenticate", challenge);
    PNK_INFO("auth", "request refused reason=\"%s\"", why);
    return pnk_fail(req, PN_E_UNAUTH, "%s", msg);
}

static int
invalid_token(pn_req_t *req, const char *why)
{
    return refuse(req, "Bearer realm=\"powernode\", error=\"invalid_token\"",
                  "invalid or expired token", why);
}

const char *
pnk_auth_bearer(const char *h)
{
    if (!h || strncasecmp(h, "Bearer", 6) != 0 || h[6] != ' ')
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

static bool
uuid_shape(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
load_user(pn_req_t *req, const pnk_jwt_claims_t *c)
{
    if (!uuid_shape(c->sub) || !uuid_shape(c->acct))
        return invalid_token(req, "sub or acct is not a uuid");

    pnk_principal_t *p = &req->principal;
    p->user_id = pnk_arena_strdup(req->arena, c->sub);
    p->account_id = pnk_arena_strdup(req->arena, c->acct);
    p->token_id = pnk_arena_strdup(req->arena, c->jti);
    p->session_id = c->sid[0] ? pnk_arena_strdup(req->arena, c->sid) : NULL;
    if (!p->user_id || !p->account_id || !p->token_id || (c->sid[0] && !p->session_id))
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    if (pnk_pcache_get(c->sub, c->acct, req->arena, p)) {
        p->kind = PNK_PRINCIPAL_USER;
        return PN_OK;
    }

    const char *params[2] = {c->sub, c->acct};
    pn_rows_t *rows = NULL;
    int rc = pnk_req_db_query(req, sql_user, 2, params, &rows);
    if (rc != PN_OK)
        return rc;
    if (pnk_rows_count(rows) != 1)
        return invalid_token(req, "user or account missing or not active");

    const char *all = pnk_rows_value(rows, 0, 1);
    p->all_perms = all && strcmp(all, "t") == 0;
    p->email = pnk_rows_value(rows, 0, 0);

    if (!p->all_perms) {
        if ((rc = pnk_req_db_query(req, sql_perms, 2, params, &rows)) != PN_OK)
            return rc;
        int n = pnk_rows_count(rows);
        if (n > 0) {
            const char **perms = pnk_arena_calloc(req->arena, (size_t)n, sizeof *perms);
            if (!perms)
                return pnk_fail(req, PN_E_INTERNAL, "out of memory");
            for (int i = 0; i < n; i++)
                perms[i] = pnk_rows_value(rows, i, 0);
            /* strcmp order, which is what bsearch in pnk_principal_can expects (SQL ORDER BY
             * would follow the database collation). */
            qsort(perms, (size_t)n, sizeof *perms, cmp_str);
            p->perms = perms;
            p->nperms = (size_t)n;
        }
    }
    p->kind = PNK_PRINCIPAL_USER;
    pnk_pcache_put(c->sub, c->acct, p);
    return PN_OK;
}

static int
authenticate_key(pn_req_t *req, uint32_t flags, const char *key)
{
    if (flags & PN_ROUTE_SERVICE)
        return refuse(req, "Bearer realm=\"powernode\", error=\"invalid_token\"",
                      "service token required", "API key on a service route");
    char why[128];
    int rc = pnk_apikey_authenticate(req, key, why, sizeof why);
    if (rc == PN_E_UNAUTH)
        return invalid_token(req, why);
    if (rc != PN_OK)
        return rc;
    return pnk_guard_rate(req, "key", req->principal.token_id, pnk_auth_policy()->rate_limit_user);
}

int
pnk_auth_authenticate(pn_req_t *req)
{
    memset(&req->principal, 0, sizeof req->principal);
    uint32_t flags = req->route ? req->route->flags : 0;
    if (flags & PN_ROUTE_PUBLIC)
        return PN_OK;

    const char *token = pnk_auth_bearer(pnk_req_header(req, "Authorization"));
    const char *xkey = pnk_req_header(req, "X-API-Key");
    if (xkey && token)
        return refuse(req, "Bearer realm=\"powernode\", error=\"invalid_request\"",
                      "give one credential, not Authorization and X-API-Key", "two credentials");
    if (xkey)
        return authenticate_key(req, flags, xkey);
    if (!token)
        return refuse(req, "Bearer realm=\"powernode\"", "authentication required",
                      "no bearer token");
    if (pnk_apikey_shaped(token))
        return authenticate_key(req, flags, token);

    pnk_jwt_claims_t c;
    char why[128];
    if (pnk_auth_verify_token(token, (int64_t)time(NULL), &c, why, sizeof why) != PN_OK)
        return invalid_token(req, why);

    bool service = strcmp(c.typ, "service") == 0;
    if (!service && strcmp(c.typ, "access") != 0)
        return invalid_token(req, "not an access token"); /* a second-step (mfa) token */
    if ((flags & PN_ROUTE_SERVICE) && !service)
        return refuse(req, "Bearer realm=\"powernode\", error=\"invalid_token\"",
                      "service token required", "user token on a service route");
    if (!(flags & PN_ROUTE_SERVICE) && service)
        return refuse(req, "Bearer realm=\"powernode\", error=\"invalid_token\"",
                      "user token required", "service token on a user route");

    if (service) {
        req->principal.kind = PNK_PRINCIPAL_SERVICE;
        req->principal.token_id = pnk_arena_strdup(req->arena, c.jti);
        if (!req->principal.token_id)
            return pnk_fail(req, PN_E_INTERNAL, "out of memory");
        PNK_DEBUG("auth", "service request worker=%s jti=%s", c.sub, c.jti);
        return PN_OK;
    }
    bool denied = false;
    int rc = pnk_guard_token(req, c.jti, c.sid, c.sub, pnk_auth_policy()->rate_limit_user, &denied);
    if (rc != PN_OK)
        return rc;
    if (denied)
        return invalid_token(req, "token signed out");
    return load_user(req, &c);
}

int
pnk_auth_authorize(pn_req_t *req)
{
    const pnk_route_t *r = req->route;
    if (!r || !r->perm || (r->flags & PN_ROUTE_PUBLIC))
        return PN_OK;
    if (pnk_principal_can(&req->principal, r->perm))
        return PN_OK;
    return pnk_fail(req, PN_E_FORBIDDEN, "permission %s required", r->perm);
}
