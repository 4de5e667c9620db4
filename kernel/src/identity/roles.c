/*
 * /api/v1/roles and /api/v1/permissions: the account's custom roles next to the read-only
 * system roles, their permission sets (audited with the difference), and the registry.
 * A caller manages only roles whose permissions they hold and grants only what they hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity_int.h"

#include "../audit/audit.h"
#include "../auth/auth.h"

/* $1 is the caller's account: user_count counts only its users, even for system roles. */
#define ROLE_OBJECT                                                                                \
    "json_build_object('id', r.id, 'account_id', r.account_id, 'name', r.name,"                    \
    " 'description', r.description, 'system', r.system,"                                           \
    " 'all_permissions', r.all_permissions,"                                                       \
    " 'permissions', COALESCE((SELECT json_agg(rp.permission ORDER BY rp.permission COLLATE "      \
    "\"C\")"                                                                                       \
    "                            FROM role_permissions rp WHERE rp.role_id = r.id), '[]'::json),"  \
    " 'user_count', (SELECT count(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id"         \
    "                 WHERE ur.role_id = r.id AND u.account_id = $1),"                             \
    " 'created_at', r.created_at, 'updated_at', r.updated_at)"

#define ROLE_VISIBLE " (r.account_id IS NULL OR r.account_id = $1)"

int
pnk_identity_roles_list(pn_req_t *req)
{
    const char *account;
    pn_rows_t *rows = NULL;
    int rc = pnk_identity_caller(req, &account, NULL);

    if (rc != PN_OK)
        return rc;
    /* System roles first, then the account's by name. An account has few roles: no pages. */
    if ((rc = pnk_req_db_query(req,
                               "SELECT " ROLE_OBJECT " FROM roles r WHERE" ROLE_VISIBLE
                               " ORDER BY r.system DESC, r.name, r.id",
                               1, &account, &rows)) != PN_OK)
        return rc;
    json_t *list = pnk_identity_objects(rows, 0);
    if (!list)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    return pnk_reply_json(req, 200, list, json_pack("{s:i}", "total", (int)json_array_size(list)));
}

static int
load_role(pn_req_t *req, const char *account, const char *id, json_t **out)
{
    pn_rows_t *rows = NULL;
    const char *params[2] = {account, id};
    int rc;

    if (!pnk_identity_uuid_ok(id))
        return pnk_fail(req, PN_E_NOTFOUND, "role not found");
    rc = pnk_req_db_query(
        req, "SELECT " ROLE_OBJECT " FROM roles r WHERE r.id = $2::uuid AND" ROLE_VISIBLE, 2,
        params, &rows);
    if (rc != PN_OK)
        return rc;
    if (!(*out = pnk_identity_object(rows, 0)))
        return pnk_fail(req, PN_E_NOTFOUND, "role not found");
    return PN_OK;
}

int
pnk_identity_roles_get(pn_req_t *req)
{
    const char *account;
    json_t *role = NULL;
    int rc = pnk_identity_caller(req, &account, NULL);

    if (rc != PN_OK || (rc = load_role(req, account, pnk_req_param(req, "id"), &role)) != PN_OK)
        return rc;
    return pnk_reply_json(req, 200, role, NULL);
}

/* Difference of two sorted, unique arrays of strings: what is in a and not in b. */
static json_t *
minus(const json_t *a, const json_t *b)
{
    json_t *out = json_array();
    size_t i = 0, j = 0, na = json_array_size(a), nb = json_array_size(b);

    while (out && i < na) {
        const char *x = json_string_value(json_array_get(a, i));
        int c = j < nb ? strcmp(x, json_string_value(json_array_get(b, j))) : -1;
        if (c < 0) {
            json_array_append(out, json_array_get(a, i));
            i++;
        } else if (c == 0) {
            i++;
            j++;
        } else {
            j++;
        }
    }
    return out;
}

static int
cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sort a JSON array of strings in place (strcmp order, as minus() expects). */
static void
sort_strings(json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t **v =
        calloc(n ? n : 1, sizeof *v); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
    qsort(v, n, sizeof *v, cmp_json_str);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}

/* Replace a role's permissions with `want` (sorted, unique), inside the caller's transaction,
 * and audit the difference. `have` is the current set (sorted, unique). */
static int
replace_perms(pn_req_t *req, const char *role_id, const json_t *have, const json_t *want)
{
    json_t *added = minus(want, have), *removed = minus(have, want);
    char *add_text = added ? json_dumps(added, JSON_COMPACT) : NULL;
    char *rm_text = removed ? json_dumps(removed, JSON_COMPACT) : NULL;
    int rc = PN_OK;

    if (!add_text || !rm_text) {
        rc = pnk_fail(req, PN_E_INTERNAL, "out of memory");
        goto out;
    }
    const char *add[2] = {role_id, add_text}, *rm[2] = {role_id, rm_text};
    if (json_array_size(removed) > 0)
        rc = pnk_req_db_query(req,
                              "DELETE FROM role_permissions WHERE role_id = $1::uuid AND"
                              " permission IN (SELECT jsonb_array_elements_text($2::jsonb))",
                              2, rm, NULL);
    if (rc == PN_OK && json_array_size(added) > 0)
        rc = pnk_req_db_query(req,
                              "INSERT INTO role_permissions (role_id, permission)"
                              " SELECT $1::uuid, jsonb_array_elements_text($2::jsonb)"
                              " ON CONFLICT DO NOTHING",
                              2, add, NULL);
    if (rc == PN_OK && (json_array_size(added) > 0 || json_array_size(removed) > 0)) {
        pnk_audit_event_t ev = {
            .action = "roles.permissions.update",
            .target_type = "role",
            .target_id = role_id,
            .result = "success",
            .details = json_pack("{s:O, s:O}", "added", added, "removed", removed),
        };
        rc = pnk_audit_record(req, &ev);
        if (rc != PN_OK) /* the change must not commit without its trail */
            rc = pnk_fail(req, rc, "could not record the change in the audit log");
    }
out:
    free(add_text);
    free(rm_text);
    json_decref(added);
    json_decref(removed);
    return rc;
}

int
pnk_identity_roles_create(pn_req_t *req)
{
    json_t *body = pnk_req_json(req), *want = NULL, *role = NULL;
    json_t *empty = pnk_req_keep_json(req, json_array());
    json_t *perms = json_object_get(body, "permissions");
    const char *account, *name = json_string_value(json_object_get(body, "name"));
    const char *desc = json_string_value(json_object_get(body, "description"));
    pn_rows_t *rows = NULL;
    char id[37];
    int rc;

    if ((rc = pnk_identity_caller(req, &account, NULL)) != PN_OK)
        return rc;
    if (!name || !empty)
        return pnk_fail(req, PN_E_INVALID, "name is required");
    if ((rc = pnk_identity_check_grant(req, perms ? perms : empty, "permissions", &want)) != PN_OK)
        return rc;
    pnk_req_keep_json(req, want);
    /* A custom role named like a system role would be indistinguishable in lists. */
    if ((rc = pnk_req_db_query(req, "SELECT 1 FROM roles WHERE system AND lower(name) = lower($1)",
                               1, &name, &rows)) != PN_OK)
        return rc;
    if (pnk_rows_count(rows) > 0)
        return pnk_fail(req, PN_E_CONFLICT, "%s is the name of a system role", name);

    pnk_uuid_v7(id);
    const char *params[4] = {id, account, name, desc ? desc : ""};
    if ((rc = pnk_req_db_begin(req)) != PN_OK)
        return rc;
    rc = pnk_req_db_query(req,
                          "INSERT INTO roles (id, account_id, name, description)"
                          " VALUES ($1, $2, $3, $4)",
                          4, params, NULL);
    if (rc == PN_E_CONFLICT)
        rc = pnk_fail(req, PN_E_CONFLICT, "a role with this name already exists");
    if (rc == PN_OK)
        rc = replace_perms(req, id, empty, want);
    if (rc == PN_OK)
        rc = pnk_req_db_commit(req);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);
    if ((rc = load_role(req, account, id, &role)) != PN_OK)
        return rc;
    return pnk_reply_json(req, 201, role, NULL);
}

/*
 * Start a change of a custom role: it must be visible (404), not a system role (409), and
 * hold nothing the caller lacks (403). Opens the transaction and locks the row; *have gets
 * its current permissions (sorted, kept by the request).
 */
static int
begin_role_change(pn_req_t *req, const char *account, const char *id, json_t **have)
{
    pn_rows_t *rows = NULL;
    const char *params[2] = {account, id};
    int rc;

    if (!pnk_identity_uuid_ok(id))
        return pnk_fail(req, PN_E_NOTFOUND, "role not found");
    if ((rc = pnk_req_db_begin(req)) != PN_OK)
        return rc;
    rc =
        pnk_req_db_query(req,
                         "SELECT r.system, r.all_permissions,"
                         "       COALESCE((SELECT json_agg(rp.permission) FROM role_permissions rp"
                         "                  WHERE rp.role_id = r.id), '[]'::json)"
                         "  FROM roles r WHERE r.id = $2::uuid AND" ROLE_VISIBLE " FOR UPDATE OF r",
                         2, params, &rows);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);
    if (pnk_rows_count(rows) != 1)
        return pnk_identity_abort(req, pnk_fail(req, PN_E_NOTFOUND, "role not found"));
    if (strcmp(pnk_rows_value(rows, 0, 0), "t") == 0)
        return pnk_identity_abort(req,
                                  pnk_fail(req, PN_E_CONFLICT, "system roles cannot be changed"));
    *have = pnk_req_keep_json(req, json_loads(pnk_rows_value(rows, 0, 2), 0, NULL));
    if (!*have)
        return pnk_identity_abort(req, pnk_fail(req, PN_E_INTERNAL, "out of memory"));
    sort_strings(*have);
    if (!pnk_identity_caller_covers(req, strcmp(pnk_rows_value(rows, 0, 1), "t") == 0, *have))
        return pnk_identity_abort(
            req, pnk_fail(req, PN_E_FORBIDDEN,
                          "you cannot change a role that holds permissions you do not"));
    return PN_OK;
}

int
pnk_identity_roles_update(pn_req_t *req)
{
    json_t *body = pnk_req_json(req), *have = NULL, *role = NULL;
    const char *account, *id = pnk_req_param(req, "id");
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *desc = json_string_value(json_object_get(body, "description"));
    pn_rows_t *rows = NULL;
    int rc;

    if ((rc = pnk_identity_caller(req, &account, NULL)) != PN_OK)
        return rc;
    if (name) {
        if ((rc = pnk_req_db_query(req,
                                   "SELECT 1 FROM roles WHERE system AND lower(name) = lower($1)",
                                   1, &name, &rows)) != PN_OK)
            return rc;
        if (pnk_rows_count(rows) > 0)
            return pnk_fail(req, PN_E_CONFLICT, "%s is the name of a system role", name);
    }
    if ((rc = begin_role_change(req, account, id, &have)) != PN_OK)
        return rc;
    const char *params[4] = {id, account, name, desc};
    rc = pnk_req_db_query(req,
                          "UPDATE roles SET name = COALESCE($3, name),"
                          "       description = COALESCE($4, description), updated_at = now()"
                          " WHERE id = $1::uuid AND account_id = $2",
                          4, params, NULL);
    if (rc == PN_E_CONFLICT)
        rc = pnk_fail(req, PN_E_CONFLICT, "a role with this name already exists");
    if (rc == PN_OK)
        rc = pnk_req_db_commit(req);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);
    if ((rc = load_role(req, account, id, &role)) != PN_OK)
        return rc;
    return pnk_reply_json(req, 200, role, NULL);
}

int
pnk_identity_roles_delete(pn_req_t *req)
{
    json_t *have = NULL;
    const char *account, *id = pnk_req_param(req, "id");
    int rc;

    if ((rc = pnk_identity_caller(req, &account, NULL)) != PN_OK ||
        (rc = begin_role_change(req, account, id, &have)) != PN_OK)
        return rc;
    const char *params[2] = {id, account};
    /* Users lose the role with it (user_roles cascades); no custom role can make an admin, so
     * the last-administrator rule cannot be broken here. */
    rc = pnk_req_db_query(req, "DELETE FROM roles WHERE id = $1::uuid AND account_id = $2", 2,
                          params, NULL);
    if (rc == PN_OK)
        rc = pnk_req_db_commit(req);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);
    return pnk_reply_json(req, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1), NULL);
}

int
pnk_identity_roles_set_perms(pn_req_t *req)
{
    json_t *body = pnk_req_json(req), *want = NULL, *have = NULL, *role = NULL;
    const char *account, *id = pnk_req_param(req, "id");
    int rc;

    if ((rc = pnk_identity_caller(req, &account, NULL)) != PN_OK)
        return rc;
    if ((rc = pnk_identity_check_grant(req, json_object_get(body, "permissions"), "permissions",
                                       &want)) != PN_OK)
        return rc;
    pnk_req_keep_json(req, want);
    if ((rc = begin_role_change(req, account, id, &have)) != PN_OK)
        return rc;
    const char *params[1] = {id};
    rc = replace_perms(req, id, have, want);
    if (rc == PN_OK)
        rc = pnk_req_db_query(req, "UPDATE roles SET updated_at = now() WHERE id = $1::uuid", 1,
                              params, NULL);
    if (rc == PN_OK)
        rc = pnk_req_db_commit(req);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);
    if ((rc = load_role(req, account, id, &role)) != PN_OK)
        return rc;
    return pnk_reply_json(req, 200, role, NULL);
}

int
pnk_identity_permissions_list(pn_req_t *req)
{
    size_t n = 0;
    const char *const *names = pnk_auth_registered_perms(&n);
    json_t *arr = json_array();
    pn_rows_t *rows = NULL;
    char *text;
    int rc;

    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_string(names[i]));
    text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!text)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    /* Without a sync in this process (n == 0) the stored registry is listed whole. */
    const char *params[2] = {pnk_req_strdup(req, text), n ? "f" : "t"};
    free(text);
    rc = pnk_req_db_query(
        req,
        "SELECT category, json_agg(json_build_object('name', name, 'description', description,"
        "                          'owner', owner) ORDER BY name COLLATE \"C\")"
        "  FROM permissions"
        " WHERE $2::boolean OR name IN (SELECT jsonb_array_elements_text($1::jsonb))"
        " GROUP BY category ORDER BY category COLLATE \"C\"",
        2, params, &rows);
    if (rc != PN_OK)
        return rc;
    json_t *groups = json_array();
    long total = 0;
    for (int i = 0; groups && i < pnk_rows_count(rows); i++) {
        json_t *perms = json_loads(pnk_rows_value(rows, i, 1), 0, NULL), *p;
        size_t k;
        /* Whether the caller holds each one: what the UI may offer for a role or an API key. */
        json_array_foreach(perms, k, p)
        {
            json_object_set_new(
                p, "held",
                json_boolean(pnk_req_can(req, json_string_value(json_object_get(p, "name")))));
        }
        total += (long)json_array_size(perms);
        json_array_append_new(groups, json_pack("{s:s, s:o*}", "category",
                                                pnk_rows_value(rows, i, 0), "permissions", perms));
    }
    if (!groups)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    return pnk_reply_json(req, 200, groups, json_pack("{s:I}", "total", (json_int_t)total));
}
