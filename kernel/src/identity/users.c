/*
 * /api/v1/users: list, create, read, change and delete the users of the caller's account,
 * with the rules that keep an account administrable (no self-disable, never the last admin)
 * and privilege-safe (grant only roles whose permissions you hold, change only users who hold
 * nothing you lack).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity_int.h"

#include "../auth/auth.h"
#include "../auth/password.h"

/* What a client sees of a user: never the password hash, the TOTP secret or failure counts. */
#define USER_OBJECT                                                                                \
    "json_build_object('id', u.id, 'account_id', u.account_id, 'email', u.email,"                  \
    " 'name', u.name, 'status', u.status, 'totp_enabled', u.totp_enabled,"                         \
    " 'locked_until', u.locked_until, 'last_login_at', u.last_login_at,"                           \
    " 'created_at', u.created_at, 'updated_at', u.updated_at,"                                     \
    " 'roles', COALESCE((SELECT json_agg(json_build_object('id', r.id, 'name', r.name,"            \
    "                                    'system', r.system) ORDER BY r.name)"                     \
    "                      FROM user_roles ur JOIN roles r ON r.id = ur.role_id"                   \
    "                       AND (r.account_id IS NULL OR r.account_id = u.account_id)"             \
    "                     WHERE ur.user_id = u.id), '[]'::json))"

/* $1 account, $2 q, $3 status, $4 role id; each filter off when NULL. */
#define USERS_WHERE                                                                                \
    " WHERE u.account_id = $1"                                                                     \
    "   AND ($2::text IS NULL OR strpos(lower(u.email), lower($2::text)) > 0"                      \
    "        OR strpos(lower(u.name), lower($2::text)) > 0)"                                       \
    "   AND ($3::text IS NULL OR u.status = $3::text)"                                             \
    "   AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM user_roles f"                               \
    "                                    WHERE f.user_id = u.id AND f.role_id = $4::uuid))"

static const struct {
    const char *key, *order;
} sorts[] = {
    {"created_at", "u.created_at, u.id"},
    {"-created_at", "u.created_at DESC, u.id DESC"},
    {"email", "lower(u.email), u.id"},
    {"-email", "lower(u.email) DESC, u.id DESC"},
    {"name", "lower(u.name), u.id"},
    {"-name", "lower(u.name) DESC, u.id DESC"},
    {"last_login_at", "u.last_login_at NULLS FIRST, u.id"},
    {"-last_login_at", "u.last_login_at DESC NULLS LAST, u.id DESC"},
};

static int
invalid_query(pn_req_t *req, const char *field, const char *msg)
{
    pnk_fail_field(req, field, "%s", msg);
    return pnk_fail(req, PN_E_INVALID, "invalid query parameter");
}

/* ?role= is a role id or a role name visible to the account. */
static int
resolve_role_filter(pn_req_t *req, const char *account, const char *role, const char **id)
{
    pn_rows_t *rows = NULL;
    const char *params[2] = {account, role};
    int rc = pnk_req_db_query(req,
                              "SELECT id FROM roles WHERE (account_id IS NULL OR account_id = $1)"
                              "   AND (id::text = lower($2) OR name = $2)",
                              2, params, &rows);
    if (rc != PN_OK)
        return rc;
    if (pnk_rows_count(rows) != 1)
        return invalid_query(req, "role", "no such role");
    *id = pnk_rows_value(rows, 0, 0);
    return PN_OK;
}

int
pnk_identity_users_list(pn_req_t *req)
{
    const char *account, *q = pnk_req_query(req, "q"), *status = pnk_req_query(req, "status");
    const char *role = pnk_req_query(req, "role"), *sort = pnk_req_query(req, "sort");
    const char *order = sorts[0].order, *role_id = NULL;
    pnk_identity_page_t pg;
    int rc;

    if ((rc = pnk_identity_list_account(req, "admin.users.read", &account)) != PN_OK ||
        (rc = pnk_identity_page_from_query(req, &pg)) != PN_OK)
        return rc;
    if (q && (q[0] == '\0' || strlen(q) > 200))
        return invalid_query(req, "q", "must be 1 to 200 characters");
    if (status && strcmp(status, "active") != 0 && strcmp(status, "disabled") != 0 &&
        strcmp(status, "invited") != 0)
        return invalid_query(req, "status", "must be active, disabled or invited");
    if (sort) {
        size_t i;
        for (i = 0; i < sizeof sorts / sizeof sorts[0] && strcmp(sorts[i].key, sort) != 0; i++)
            ;
        if (i == sizeof sorts / sizeof sorts[0])
            return invalid_query(req, "sort",
                                 "must be one of created_at, email, name, last_login_at, "
                                 "optionally prefixed with -");
        order = sorts[i].order;
    }
    if (role && (rc = resolve_role_filter(req, account, role, &role_id)) != PN_OK)
        return rc;

    char limit[24], offset[24];
    (void)snprintf(limit, sizeof limit, "%ld", pg.per_page);
    (void)snprintf(offset, sizeof offset, "%ld", pg.offset);
    const char *params[6] = {account, q, status, role_id, limit, offset};
    /* The ORDER BY comes from the fixed table above, never from the input. */
    char *sql = pnk_req_printf(req,
                               "SELECT " USER_OBJECT " FROM users u" USERS_WHERE
                               " ORDER BY %s LIMIT $5::bigint OFFSET $6::bigint",
                               order);
    pn_rows_t *rows = NULL, *count = NULL;
    if (!sql)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    if ((rc = pnk_req_db_query(req, sql, 6, params, &rows)) != PN_OK ||
        (rc = pnk_req_db_query(req, "SELECT count(*) FROM users u" USERS_WHERE, 4, params,
                               &count)) != PN_OK)
        return rc;
    json_t *list = pnk_identity_objects(rows, 0);
    const char *total = pnk_identity_value(count, 0);
    if (!list)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    return pnk_reply_json(req, 200, list,
                          pnk_identity_page_meta(&pg, total ? strtol(total, NULL, 10) : 0));
}

static int
load_user(pn_req_t *req, const char *account, const char *id, json_t **out)
{
    pn_rows_t *rows = NULL;
    const char *params[2] = {id, account};
    int rc = pnk_req_db_query(
        req, "SELECT " USER_OBJECT " FROM users u WHERE u.id = $1::uuid AND u.account_id = $2", 2,
        params, &rows);
    if (rc != PN_OK)
        return rc;
    if (!(*out = pnk_identity_object(rows, 0)))
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    return PN_OK;
}

int
pnk_identity_users_get(pn_req_t *req)
{
    const char *account, *id = pnk_req_param(req, "id");
    json_t *user = NULL;
    int rc = pnk_identity_caller(req, &account, NULL);

    if (rc != PN_OK)
        return rc;
    if (!pnk_identity_uuid_ok(id))
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    if ((rc = load_user(req, account, id, &user)) != PN_OK)
        return rc;
    return pnk_reply_json(req, 200, user, NULL);
}

/* Lower-cased, deduplicated role ids (new reference). */
static json_t *
unique_ids(const json_t *ids)
{
    json_t *out = json_array(), *v;
    size_t i;

    json_array_foreach(ids, i, v)
    {
        char id[37];
        (void)snprintf(id, sizeof id, "%s", json_string_value(v));
        for (char *c = id; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        bool seen = false;
        for (size_t k = 0; k < json_array_size(out) && !seen; k++)
            seen = strcmp(json_string_value(json_array_get(out, k)), id) == 0;
        if (!seen)
            json_array_append_new(out, json_string(id));
    }
    return out;
}

/*
 * Roles a caller wants to give: each must be a system role or one of the account's (else 422,
 * which also hides other accounts' roles), and the caller must hold all its permissions (else
 * 403). *ids_json gets the ids as JSON text for the insert.
 */
static int
check_roles(pn_req_t *req, const char *account, const json_t *roles, const char **ids_json)
{
    json_t *ids = unique_ids(roles);
    char *text = ids ? json_dumps(ids, JSON_COMPACT) : NULL;
    pn_rows_t *rows = NULL;
    int rc;

    *ids_json = text ? pnk_req_strdup(req, text) : NULL;
    free(text);
    if (!*ids_json) {
        json_decref(ids);
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    }
    const char *params[2] = {account, *ids_json};
    rc = pnk_req_db_query(
        req,
        "SELECT r.id, r.name, r.all_permissions,"
        "       COALESCE((SELECT json_agg(rp.permission) FROM role_permissions rp"
        "                  WHERE rp.role_id = r.id), '[]'::json)"
        "  FROM roles r"
        " WHERE (r.account_id IS NULL OR r.account_id = $1)"
        "   AND r.id IN (SELECT x::uuid FROM jsonb_array_elements_text($2::jsonb) AS x)",
        2, params, &rows);
    if (rc != PN_OK) {
        json_decref(ids);
        return rc;
    }
    int n = pnk_rows_count(rows);
    if ((size_t)n != json_array_size(ids)) {
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
            bool found = false;
            for (int r = 0; r < n && !found; r++)
                found = strcmp(pnk_rows_value(rows, r, 0), json_string_value(v)) == 0;
            if (!found)
                pnk_fail_field(req, "roles", "no such role: %s", json_string_value(v));
        }
        json_decref(ids);
        return pnk_fail(req, PN_E_INVALID, "unknown role");
    }
    json_decref(ids);
    for (int r = 0; r < n; r++) {
        bool all = strcmp(pnk_rows_value(rows, r, 2), "t") == 0;
        json_t *perms = json_loads(pnk_rows_value(rows, r, 3), 0, NULL);
        bool ok = pnk_identity_caller_covers(req, all, perms);
        json_decref(perms);
        if (!ok)
            return pnk_fail(req, PN_E_FORBIDDEN,
                            "you cannot grant the role %s: it holds permissions you do not",
                            pnk_rows_value(rows, r, 1));
    }
    return PN_OK;
}

static int
insert_roles(pn_req_t *req, const char *user_id, const char *ids_json)
{
    const char *params[2] = {user_id, ids_json};
    return pnk_req_db_query(req,
                            "INSERT INTO user_roles (user_id, role_id)"
                            " SELECT $1, x::uuid FROM jsonb_array_elements_text($2::jsonb) AS x",
                            2, params, NULL);
}

int
pnk_identity_users_create(pn_req_t *req)
{
    json_t *body = pnk_req_json(req), *roles = json_object_get(body, "roles");
    json_t *jpwd = json_object_get(body, "password");
    const char *account, *email = json_string_value(json_object_get(body, "email"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *status = json_string_value(json_object_get(body, "status"));
    const char *ids_json = NULL;
    char hash[PNK_PASSWORD_HASH_MAX], err[160];
    int rc;

    if ((rc = pnk_identity_caller(req, &account, NULL)) != PN_OK)
        return rc;
    if (!email)
        return pnk_fail(req, PN_E_INVALID, "email is required");
    if (!status)
        status = jpwd ? "active" : "invited";
    if (strcmp(status, "active") == 0 && !jpwd) {
        pnk_fail_field(req, "password", "is required for an active user");
        return pnk_fail(req, PN_E_INVALID, "request body failed validation");
    }
    if (strcmp(status, "invited") == 0 && jpwd) {
        pnk_fail_field(req, "password", "an invited user sets their own password");
        return pnk_fail(req, PN_E_INVALID, "request body failed validation");
    }
    if (jpwd && pnk_password_check_policy(json_string_value(jpwd), json_string_length(jpwd), err,
                                          sizeof err) != PN_OK) {
        pnk_fail_field(req, "password", "%s", err);
        return pnk_fail(req, PN_E_INVALID, "request body failed validation");
    }
    /* No roles named: a member, granted under the same rule as any other role. */
    json_t *def = NULL;
    if (!roles)
        roles = def = json_pack("[s]", PNK_ROLE_MEMBER_ID);
    rc = check_roles(req, account, roles, &ids_json);
    json_decref(def);
    if (rc != PN_OK)
        return rc;
    /* Hash before the transaction: argon2 takes tens of milliseconds and holds no lock. */
    if (jpwd && pnk_password_hash(json_string_value(jpwd), json_string_length(jpwd), hash,
                                  sizeof hash, err, sizeof err) != PN_OK)
        return pnk_fail(req, PN_E_INTERNAL, "cannot hash the password: %s", err);

    char id[37];
    pnk_uuid_v7(id);
    const char *params[6] = {id, account, email, name ? name : "", jpwd ? hash : NULL, status};
    if ((rc = pnk_req_db_begin(req)) != PN_OK)
        return rc;
    rc = pnk_req_db_query(req,
                          "INSERT INTO users (id, account_id, email, name, password_hash, status,"
                          "                   password_changed_at)"
                          " VALUES ($1, $2, $3, $4, $5, $6,"
                          "         CASE WHEN $5::text IS NULL THEN NULL ELSE now() END)",
                          6, params, NULL);
    if (rc == PN_E_CONFLICT)
        rc = pnk_fail(req, PN_E_CONFLICT, "a user with this email already exists");
    if (rc == PN_OK)
        rc = insert_roles(req, id, ids_json);
    if (rc == PN_OK)
        rc = pnk_req_db_commit(req);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);

    json_t *user = NULL;
    if ((rc = load_user(req, account, id, &user)) != PN_OK)
        return rc;
    return pnk_reply_json(req, 201, user, NULL);
}

/* The target of a change, locked, with what it holds. */
typedef struct target {
    const char *status;
    bool has_password, all_perms;
    json_t *perms; /* kept by the request */
} target_t;

static int
lock_target(pn_req_t *req, const char *account, const char *id, target_t *t)
{
    pn_rows_t *rows = NULL;
    const char *params[2] = {id, account};
    int rc = pnk_req_db_query(
        req,
        "SELECT u.status, u.password_hash IS NOT NULL,"
        "       EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
        "                AND (r.account_id IS NULL OR r.account_id = u.account_id)"
        "                WHERE ur.user_id = u.id AND r.all_permissions),"
        "       COALESCE((SELECT json_agg(DISTINCT rp.permission)"
        "                   FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
        "                    AND (r.account_id IS NULL OR r.account_id = u.account_id)"
        "                   JOIN role_permissions rp ON rp.role_id = r.id"
        "                  WHERE ur.user_id = u.id), '[]'::json)"
        "  FROM users u WHERE u.id = $1::uuid AND u.account_id = $2 FOR UPDATE OF u",
        2, params, &rows);
    if (rc != PN_OK)
        return rc;
    if (pnk_rows_count(rows) != 1)
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    t->status = pnk_rows_value(rows, 0, 0);
    t->has_password = strcmp(pnk_rows_value(rows, 0, 1), "t") == 0;
    t->all_perms = strcmp(pnk_rows_value(rows, 0, 2), "t") == 0;
    t->perms = pnk_req_keep_json(req, json_loads(pnk_rows_value(rows, 0, 3), 0, NULL));
    if (!t->perms)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    if (!pnk_identity_caller_covers(req, t->all_perms, t->perms))
        return pnk_fail(req, PN_E_FORBIDDEN,
                        "you cannot change a user who holds permissions you do not");
    return PN_OK;
}

/* Open the transaction, take the administrators' lock, lock the target and count admins. */
static int
begin_change(pn_req_t *req, const char *account, const char *id, target_t *t, long *admins)
{
    int rc;
    if (!pnk_identity_uuid_ok(id))
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    if ((rc = pnk_req_db_begin(req)) != PN_OK)
        return rc;
    if ((rc = pnk_identity_lock_admins(req, account)) != PN_OK ||
        (rc = lock_target(req, account, id, t)) != PN_OK ||
        (rc = pnk_identity_count_admins(req, account, admins)) != PN_OK)
        return pnk_identity_abort(req, rc);
    return PN_OK;
}

/* After the change, inside the transaction: an account that had an administrator keeps one. */
static int
keep_an_admin(pn_req_t *req, const char *account, long before)
{
    long after = 0;
    int rc = pnk_identity_count_admins(req, account, &after);
    if (rc != PN_OK)
        return rc;
    if (before > 0 && after == 0)
        return pnk_fail(req, PN_E_CONFLICT,
                        "the account must keep at least one active administrator");
    return PN_OK;
}

int
pnk_identity_users_update(pn_req_t *req)
{
    json_t *body = pnk_req_json(req), *roles = json_object_get(body, "roles");
    const char *account, *self, *id = pnk_req_param(req, "id");
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *status = json_string_value(json_object_get(body, "status"));
    const char *ids_json = NULL;
    target_t t = {0};
    long admins = 0;
    int rc;

    if ((rc = pnk_identity_caller(req, &account, &self)) != PN_OK)
        return rc;
    bool is_self = id && strcasecmp(id, self) == 0;
    if (is_self && status && strcmp(status, "active") != 0)
        return pnk_fail(req, PN_E_CONFLICT, "you cannot disable yourself");
    if (is_self && roles)
        return pnk_fail(req, PN_E_CONFLICT, "you cannot change your own roles");
    if (roles && (rc = check_roles(req, account, roles, &ids_json)) != PN_OK)
        return rc;
    if ((rc = begin_change(req, account, id, &t, &admins)) != PN_OK)
        return rc;

    if (status && strcmp(status, "active") == 0 && !t.has_password)
        return pnk_identity_abort(
            req, pnk_fail(req, PN_E_CONFLICT, "the user has not set a password yet"));
    const char *params[4] = {id, account, name, status};
    rc = pnk_req_db_query(req,
                          "UPDATE users SET name = COALESCE($3, name),"
                          "       status = COALESCE($4, status), updated_at = now()"
                          " WHERE id = $1::uuid AND account_id = $2",
                          4, params, NULL);
    if (rc == PN_OK && roles) {
        rc = pnk_req_db_query(req, "DELETE FROM user_roles WHERE user_id = $1::uuid", 1, params,
                              NULL);
        if (rc == PN_OK)
            rc = insert_roles(req, id, ids_json);
    }
    if (rc == PN_OK)
        rc = keep_an_admin(req, account, admins);
    if (rc == PN_OK)
        rc = pnk_req_db_commit(req);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);

    json_t *user = NULL;
    if ((rc = load_user(req, account, id, &user)) != PN_OK)
        return rc;
    return pnk_reply_json(req, 200, user, NULL);
}

int
pnk_identity_users_delete(pn_req_t *req)
{
    const char *account, *self, *id = pnk_req_param(req, "id");
    target_t t;
    long admins = 0;
    int rc;

    if ((rc = pnk_identity_caller(req, &account, &self)) != PN_OK)
        return rc;
    if (id && strcasecmp(id, self) == 0)
        return pnk_fail(req, PN_E_CONFLICT, "you cannot delete yourself");
    if ((rc = begin_change(req, account, id, &t, &admins)) != PN_OK)
        return rc;
    const char *params[2] = {id, account};
    rc = pnk_req_db_query(req, "DELETE FROM users WHERE id = $1::uuid AND account_id = $2", 2,
                          params, NULL);
    if (rc == PN_OK)
        rc = keep_an_admin(req, account, admins);
    if (rc == PN_OK)
        rc = pnk_req_db_commit(req);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);
    return pnk_reply_json(req, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1), NULL);
}
