/*
 * The kernel's /api/v1/auth routes (login, me) and the permissions kernel routes need.
 * Refresh tokens, API keys, TOTP and lockout come with the full identity issue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "password.h"

#include "../core/log.h"

const pn_perm_t pnk_auth_perms[] = {
    {"auth.me.read", "See your own profile, roles and permissions", "Account"},
    {"admin.system.read", "See server status and the loaded plugins", "Administration"},
    PN_PERM_END,
};

static const char login_schema[] =
    "{\"type\":\"object\",\"required\":[\"email\",\"password\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"email\":{\"type\":\"string\",\"format\":\"email\",\"maxLength\":254},"
    "\"password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024}}}";

static const char login_resp[] =
    "{\"type\":\"object\",\"properties\":{\"access_token\":{\"type\":\"string\"},"
    "\"token_type\":{\"const\":\"Bearer\"},\"expires_in\":{\"type\":\"integer\"},"
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
    "SELECT u.id, u.email, u.name, u.account_id, u.password_hash"
    "  FROM users u JOIN accounts a ON a.id = u.account_id"
    " WHERE lower(u.email) = lower($1) AND u.status = 'active' AND a.status = 'active'"
    " ORDER BY u.created_at LIMIT 2";

static int
login_failed(pn_req_t *req)
{
    return pnk_fail(req, PN_E_UNAUTH, "invalid email or password");
}

static int
login(pn_req_t *req)
{
    json_t *body = pnk_req_json(req);
    json_t *je = json_object_get(body, "email"), *jp = json_object_get(body, "password");
    if (!json_is_string(je) || !json_is_string(jp))
        return pnk_fail(req, PN_E_INVALID, "email and password are required");
    const char *email = json_string_value(je);
    const char *pwd = json_string_value(jp);
    size_t pwd_len = json_string_length(jp);

    pn_rows_t *rows = NULL;
    int rc = pnk_req_db_query(req, sql_login, 1, &email, &rows);
    if (rc != PN_OK)
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
        return login_failed(req);
    }
    if (!pnk_password_verify(hash, pwd, pwd_len))
        return login_failed(req);

    const char *user_id = pnk_rows_value(rows, 0, 0);
    const char *account_id = pnk_rows_value(rows, 0, 3);
    rc = pnk_req_db_query(req, "UPDATE users SET last_login_at = now() WHERE id = $1", 1, &user_id,
                          NULL);
    if (rc != PN_OK)
        return rc;

    char *token = NULL, err[160];
    int expires_in = 0;
    if (pnk_auth_issue_access(user_id, account_id, &token, &expires_in, NULL, err, sizeof err) !=
        PN_OK) {
        PNK_ERROR("auth", "cannot issue access token reason=\"%s\"", err);
        return pnk_fail(req, PN_E_INTERNAL, "cannot issue a token");
    }
    json_t *data = json_pack("{s:s, s:s, s:i, s:{s:s, s:s, s:s, s:s}}", "access_token", token,
                             "token_type", "Bearer", "expires_in", expires_in, "user", "id",
                             user_id, "email", pnk_rows_value(rows, 0, 1), "name",
                             pnk_rows_value(rows, 0, 2), "account_id", account_id);
    free(token);
    if (!data)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    /* RFC 6749 §5.1: responses carrying tokens must not be cached. */
    (void)pnk_reply_header(req, "Cache-Control", "no-store");
    PNK_INFO("auth", "login user=%s", user_id);
    return pnk_reply_json(req, 200, data, NULL);
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

static int
me(pn_req_t *req)
{
    const pnk_principal_t *p = &req->principal;
    if (p->kind != PNK_PRINCIPAL_USER || !p->user_id)
        return pnk_fail(req, PN_E_UNAUTH, "user token required");
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

    json_t *perms;
    if (p->all_perms) {
        perms = all_permission_names(req);
    } else {
        perms = json_array();
        for (size_t i = 0; perms && i < p->nperms; i++)
            json_array_append_new(perms, json_string(p->perms[i]));
    }
    json_t *data = json_pack("{s:o?, s:o?, s:o?, s:o?}", "user", first_row(urows), "account",
                             first_row(arows), "roles", pnk_rows_json(rrows), "permissions", perms);
    if (!data || !json_is_array(json_object_get(data, "permissions"))) {
        json_decref(data);
        /* A failed registry query has already set the request's error. */
        return req->err_code ? req->err_code : pnk_fail(req, PN_E_INTERNAL, "out of memory");
    }
    return pnk_reply_json(req, 200, data, NULL);
}

const pn_route_t pnk_auth_routes[] = {
    {.method = PN_POST,
     .path = "/api/v1/auth/login",
     .perm = NULL,
     .fn = login,
     .summary = "Sign in with email and password; returns an access token",
     .max_body = PN_KIB(8),
     .req_schema = login_schema,
     .resp_schema = login_resp,
     .flags = PN_ROUTE_PUBLIC},
    {.method = PN_GET,
     .path = "/api/v1/auth/me",
     .perm = "auth.me.read",
     .fn = me,
     .summary = "The signed-in user with account, roles and effective permissions",
     .resp_schema = me_resp},
    PN_ROUTE_END,
};
