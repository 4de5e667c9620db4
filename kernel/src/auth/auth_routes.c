/*
 * The kernel's /api/v1/auth route table and the permissions kernel routes need, with the
 * password sign-in, /auth/me and the worker connectivity check. Refresh, logout and password
 * change are in auth_session.c, two-factor in auth_totp.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_int.h"
#include "guard.h"
#include "password.h"
#include "pcache.h"
#include "signin.h"

#include "../core/envelope.h"
#include "../core/log.h"

const pn_perm_t pnk_auth_perms[] = {
    {"auth.me.read", "See your own profile, roles and permissions", "Account"},
    {"auth.self.manage", "Sign out, change your own password and two-factor settings", "Account"},
    {"admin.system.read", "See server status and the loaded plugins", "Administration"},
    PN_PERM_END,
};

static const char login_schema[] =
    "{\"type\":\"object\",\"required\":[\"email\",\"password\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"email\":{\"type\":\"string\",\"format\":\"email\",\"maxLength\":254},"
    "\"password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024}}}";

/* Either the tokens, or (two-factor on) mfa_required with the token for /auth/login/mfa. */
static const char login_resp[] =
    "{\"type\":\"object\",\"properties\":{\"access_token\":{\"type\":\"string\"},"
    "\"token_type\":{\"const\":\"Bearer\"},\"expires_in\":{\"type\":\"integer\"},"
    "\"refresh_token\":{\"type\":\"string\"},\"refresh_expires_in\":{\"type\":\"integer\"},"
    "\"mfa_required\":{\"type\":\"boolean\"},\"mfa_token\":{\"type\":\"string\"},"
    "\"user\":{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"email\":{\"type\":\"string\"},"
    "\"name\":{\"type\":\"string\"},\"account_id\":{\"type\":\"string\",\"format\":\"uuid\"}}}}}";

static const char me_resp[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"user\":{\"type\":\"object\"},\"account\":{\"type\":\"object\"},"
    "\"roles\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
    "\"permissions\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}";

/* Inactive users and accounts look exactly like unknown ones. */
static const char sql_login[] =
    "SELECT u.id, u.email, u.name, u.account_id, u.password_hash,"
    "       coalesce(u.locked_until > now(), false),"
    "       ceil(extract(epoch FROM u.locked_until - now()))::bigint, u.totp_enabled"
    "  FROM users u JOIN accounts a ON a.id = u.account_id"
    " WHERE lower(u.email) = lower($1) AND u.status = 'active' AND a.status = 'active'"
    " ORDER BY u.created_at LIMIT 2";

static int
login_failed(pn_req_t *req, const char *account_id, const char *user_id, const char *email,
             const char *reason)
{
    pnk_signin_audit(req, "auth.login", "failure", account_id, user_id,
                     json_pack("{s:s, s:s}", "email", email, "reason", reason));
    return pnk_fail(req, PN_E_UNAUTH, "invalid email or password");
}

static int
login(pn_req_t *req)
{
    int rc = pnk_guard_rate(req, "ip", pnk_req_client_ip(req), pnk_auth_policy()->rate_limit_ip);
    if (rc != PN_OK)
        return rc;
    json_t *body = pnk_req_json(req);
    json_t *je = json_object_get(body, "email"), *jp = json_object_get(body, "password");
    if (!json_is_string(je) || !json_is_string(jp))
        return pnk_fail(req, PN_E_INVALID, "email and password are required");
    const char *email = json_string_value(je);
    const char *pwd = json_string_value(jp);
    size_t pwd_len = json_string_length(jp);

    pn_rows_t *rows = NULL;
    if ((rc = pnk_req_db_query(req, sql_login, 1, &email, &rows)) != PN_OK)
        return rc;
    int n = pnk_rows_count(rows);
    const char *hash = n == 1 ? pnk_rows_value(rows, 0, 4) : NULL;
    if (!hash) {
        /* Same work as a real check, so the answer time does not reveal whether the email is
         * known. The same email in two accounts cannot be resolved without an account
         * selector, which comes with multi-account login. */
        if (n > 1)
            PNK_WARN("auth", "login refused: email exists in more than one account");
        pnk_password_verify_dummy(pwd, pwd_len);
        return login_failed(req, pnk_signin_core_account(req), NULL, email,
                            n > 1 ? "email in several accounts" : "unknown email or no password");
    }
    const char *user_id = pnk_rows_value(rows, 0, 0);
    const char *account_id = pnk_rows_value(rows, 0, 3);
    if (strcmp(pnk_rows_value(rows, 0, 5), "t") == 0) {
        /* Checked before the password, so a locked account costs no hashing and the right
         * password does not get in either. */
        pnk_signin_audit(req, "auth.login", "denied", account_id, user_id,
                         json_pack("{s:s, s:s}", "email", email, "reason", "account locked"));
        return pnk_signin_locked(req, strtol(pnk_rows_value(rows, 0, 6), NULL, 10));
    }
    if (!pnk_password_verify(hash, pwd, pwd_len)) {
        bool locked = false;
        if ((rc = pnk_signin_failed(req, user_id, account_id, &locked)) != PN_OK)
            return rc;
        return login_failed(req, account_id, user_id, email, "wrong password");
    }

    const char *uemail = pnk_rows_value(rows, 0, 1), *name = pnk_rows_value(rows, 0, 2);
    if (strcmp(pnk_rows_value(rows, 0, 7), "t") == 0) {
        /* The failure count is left alone until the second step succeeds, so knowing the
         * password does not reset the count of wrong codes. */
        if (!pnk_auth_policy()->two_factor) {
            PNK_ERROR("auth", "user %s has two-factor on but auth.master_key is not set", user_id);
            return pnk_signin_no_two_factor(req);
        }
        char *mfa = NULL, err[160];
        if (pnk_auth_issue_mfa(user_id, account_id, &mfa, err, sizeof err) != PN_OK) {
            PNK_ERROR("auth", "cannot issue mfa token reason=\"%s\"", err);
            return pnk_fail(req, PN_E_INTERNAL, "cannot issue a token");
        }
        pnk_signin_audit(req, "auth.login", "success", account_id, user_id,
                         json_pack("{s:s, s:b}", "step", "password", "mfa_required", 1));
        json_t *data = json_pack("{s:b, s:s, s:i}", "mfa_required", 1, "mfa_token", mfa,
                                 "expires_in", PNK_AUTH_MFA_TTL);
        free(mfa);
        if (!data)
            return pnk_fail(req, PN_E_INTERNAL, "out of memory");
        (void)pnk_reply_header(req, "Cache-Control", "no-store");
        return pnk_reply_json(req, 200, data, NULL);
    }
    return pnk_signin_complete(req, user_id, account_id, uemail, name, "auth.login",
                               json_pack("{s:s}", "method", "password"));
}

/* Row 0 of a query as a JSON object (new reference), or NULL when there is no row. */
static json_t *
first_row(const pn_rows_t *rows)
{
    json_t *all = pnk_rows_json(rows);
    json_t *row = json_incref(json_array_get(all, 0));
    json_decref(all);
    return row;
}

static json_t *
all_permission_names(pn_req_t *req)
{
    size_t n = 0;
    const char *const *names = pnk_auth_registered_perms(&n);
    json_t *out = json_array();
    if (!out)
        return NULL;
    if (n > 0) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(out, json_string(names[i]));
        return out;
    }
    /* No sync in this process (tools, tests): fall back to the stored registry. */
    pn_rows_t *rows = NULL;
    if (pnk_req_db_query(req, "SELECT name FROM permissions ORDER BY name COLLATE \"C\"", 0, NULL,
                         &rows) != PN_OK) {
        json_decref(out);
        return NULL;
    }
    for (int i = 0; i < pnk_rows_count(rows); i++)
        json_array_append_new(out, json_string(pnk_rows_value(rows, i, 0)));
    return out;
}

/* User, account and roles from the database, as one JSON object. */
static int
load_profile(pn_req_t *req, json_t **out)
{
    const pnk_principal_t *p = &req->principal;
    const char *params[2] = {p->user_id, p->account_id};
    pn_rows_t *urows = NULL, *arows = NULL, *rrows = NULL;
    int rc;
    if ((rc = pnk_req_db_query(req,
                               "SELECT id, email, name, account_id, status, totp_enabled,"
                               "       last_login_at, created_at"
                               "  FROM users WHERE id = $1 AND account_id = $2",
                               2, params, &urows)) != PN_OK ||
        (rc = pnk_req_db_query(req,
                               "SELECT id, name, slug, status, created_at"
                               "  FROM accounts WHERE id = $1",
                               1, &params[1], &arows)) != PN_OK ||
        (rc = pnk_req_db_query(
             req,
             "SELECT r.id, r.name, r.description, r.system, r.all_permissions"
             "  FROM user_roles ur"
             "  JOIN roles r ON r.id = ur.role_id AND (r.account_id IS NULL OR r.account_id = $2)"
             " WHERE ur.user_id = $1 ORDER BY r.name",
             2, params, &rrows)) != PN_OK)
        return rc;
    if (pnk_rows_count(urows) != 1 || pnk_rows_count(arows) != 1)
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    *out = json_pack("{s:o?, s:o?, s:o?}", "user", first_row(urows), "account", first_row(arows),
                     "roles", pnk_rows_json(rrows));
    return *out ? PN_OK : pnk_fail(req, PN_E_INTERNAL, "out of memory");
}

/* The reply comes from the principal cache when it can: /auth/me is what every client calls
 * first and polls, and its rows change only through routes that drop the cache. Only for
 * signed-in users: an API key's permissions are its own, not its owner's. */
static int
me(pn_req_t *req)
{
    const pnk_principal_t *p = &req->principal;
    /* An API key sees its owner, with the key's own effective permissions. */
    if ((p->kind != PNK_PRINCIPAL_USER && p->kind != PNK_PRINCIPAL_APIKEY) || !p->user_id)
        return pnk_fail(req, PN_E_UNAUTH, "user token required");
    bool cacheable = p->kind == PNK_PRINCIPAL_USER;
    const char *cached =
        cacheable ? pnk_pcache_get_profile(p->user_id, p->account_id, req->arena) : NULL;
    if (cached)
        return pnk_reply_raw(req, 200, "application/json", cached, strlen(cached));

    uint64_t gen = pnk_pcache_generation();
    json_t *data = NULL;
    int rc = load_profile(req, &data);
    if (rc != PN_OK)
        return rc;
    json_t *perms;
    if (p->all_perms) {
        perms = all_permission_names(req);
    } else {
        perms = json_array();
        for (size_t i = 0; perms && i < p->nperms; i++)
            json_array_append_new(perms, json_string(p->perms[i]));
    }
    json_t *doc = perms && json_object_set_new(data, "permissions", perms) == 0
                      ? pnk_envelope_ok(data, NULL)
                      : (json_decref(data), NULL);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text)
        /* A failed registry query has already set the request's error. */
        return req->err_code ? req->err_code : pnk_fail(req, PN_E_INTERNAL, "out of memory");
    if (cacheable)
        pnk_pcache_put_profile(p->user_id, p->account_id, gen, text);
    rc = pnk_reply_raw(req, 200, "application/json", text, strlen(text));
    free(text);
    return rc;
}

/* The worker connectivity check: a worker calls it with its service token at start-up to
 * prove it can reach the server and that the shared secret matches. */
static int
internal_ping(pn_req_t *req)
{
    return pnk_reply_json(req, 200, json_pack("{s:b}", "pong", 1), NULL);
}

static const char tokens_resp[] =
    "{\"type\":\"object\",\"properties\":{\"access_token\":{\"type\":\"string\"},"
    "\"token_type\":{\"const\":\"Bearer\"},\"expires_in\":{\"type\":\"integer\"},"
    "\"refresh_token\":{\"type\":\"string\"},\"refresh_expires_in\":{\"type\":\"integer\"},"
    "\"user\":{\"type\":\"object\"}}}";

static const char mfa_schema[] =
    "{\"type\":\"object\",\"required\":[\"mfa_token\"],\"additionalProperties\":false,"
    "\"properties\":{\"mfa_token\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8192},"
    "\"code\":{\"type\":\"string\",\"pattern\":\"^[0-9]{6}$\"},"
    "\"recovery_code\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64}}}";

static const char refresh_schema[] =
    "{\"type\":\"object\",\"required\":[\"refresh_token\"],\"additionalProperties\":false,"
    "\"properties\":{\"refresh_token\":{\"type\":\"string\",\"minLength\":1,"
    "\"maxLength\":256}}}";

static const char password_schema[] =
    "{\"type\":\"object\",\"required\":[\"current_password\",\"new_password\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"current_password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
    "\"new_password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
    "\"refresh_token\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256}}}";

static const char code_schema[] =
    "{\"type\":\"object\",\"required\":[\"code\"],\"additionalProperties\":false,"
    "\"properties\":{\"code\":{\"type\":\"string\",\"pattern\":\"^[0-9]{6}$\"}}}";

static const char disable_schema[] =
    "{\"type\":\"object\",\"required\":[\"password\"],\"additionalProperties\":false,"
    "\"properties\":{\"password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
    "\"code\":{\"type\":\"string\",\"pattern\":\"^[0-9]{6}$\"},"
    "\"recovery_code\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64}}}";

static const char object_resp[] = "{\"type\":\"object\"}";

static const char setup_resp[] =
    "{\"type\":\"object\",\"properties\":{\"secret\":{\"type\":\"string\"},"
    "\"otpauth_uri\":{\"type\":\"string\"}}}";

static const char enable_resp[] =
    "{\"type\":\"object\",\"properties\":{\"enabled\":{\"type\":\"boolean\"},"
    "\"recovery_codes\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}";

const pn_route_t pnk_auth_routes[] = {
    {.method = PN_POST,
     .path = "/api/v1/auth/login",
     .perm = NULL,
     .fn = login,
     .summary = "Sign in with email and password; returns tokens, or asks for the second factor",
     .max_body = PN_KIB(8),
     .req_schema = login_schema,
     .resp_schema = login_resp,
     .flags = PN_ROUTE_PUBLIC},
    {.method = PN_POST,
     .path = "/api/v1/auth/login/mfa",
     .perm = NULL,
     .fn = pnk_auth_route_login_mfa,
     .summary = "Second sign-in step: the mfa_token with a TOTP code or a recovery code",
     .max_body = PN_KIB(16),
     .req_schema = mfa_schema,
     .resp_schema = tokens_resp,
     .flags = PN_ROUTE_PUBLIC},
    {.method = PN_POST,
     .path = "/api/v1/auth/refresh",
     .perm = NULL,
     .fn = pnk_auth_route_refresh,
     .summary = "Exchange a refresh token for new tokens (rotation; reuse revokes the family)",
     .max_body = PN_KIB(4),
     .req_schema = refresh_schema,
     .resp_schema = tokens_resp,
     .flags = PN_ROUTE_PUBLIC},
    {.method = PN_POST,
     .path = "/api/v1/auth/logout",
     .perm = "auth.self.manage",
     .fn = pnk_auth_route_logout,
     .summary = "Sign out: revoke the refresh token's family and this access token",
     .max_body = PN_KIB(4),
     .resp_schema = object_resp},
    {.method = PN_POST,
     .path = "/api/v1/auth/password",
     .perm = "auth.self.manage",
     .fn = pnk_auth_route_password,
     .summary = "Change your password; other sessions are signed out",
     .max_body = PN_KIB(8),
     .req_schema = password_schema,
     .resp_schema = object_resp},
    {.method = PN_POST,
     .path = "/api/v1/auth/totp/setup",
     .perm = "auth.self.manage",
     .fn = pnk_auth_route_totp_setup,
     .summary = "Start two-factor enrolment: a new secret and its otpauth:// URI, shown once",
     .max_body = PN_KIB(1),
     .resp_schema = setup_resp},
    {.method = PN_POST,
     .path = "/api/v1/auth/totp/enable",
     .perm = "auth.self.manage",
     .fn = pnk_auth_route_totp_enable,
     .summary = "Turn two-factor on with a code from the app; returns recovery codes, shown once",
     .max_body = PN_KIB(1),
     .req_schema = code_schema,
     .resp_schema = enable_resp},
    {.method = PN_POST,
     .path = "/api/v1/auth/totp/disable",
     .perm = "auth.self.manage",
     .fn = pnk_auth_route_totp_disable,
     .summary = "Turn two-factor off with your password and a code",
     .max_body = PN_KIB(4),
     .req_schema = disable_schema,
     .resp_schema = object_resp},
    {.method = PN_GET,
     .path = "/api/v1/auth/me",
     .perm = "auth.me.read",
     .fn = me,
     .summary = "The signed-in user with account, roles and effective permissions",
     .resp_schema = me_resp},
    {.method = PN_GET,
     .path = "/api/v1/internal/ping",
     .perm = NULL,
     .fn = internal_ping,
     .summary = "Worker connectivity check (service token only)",
     .resp_schema = object_resp,
     .flags = PN_ROUTE_SERVICE},
    PN_ROUTE_END,
};
