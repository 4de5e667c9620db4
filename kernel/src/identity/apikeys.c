/*
 * /api/v1/api_keys: a user's own API keys (list, create, revoke), and everyone's in the
 * account for holders of admin.api_keys.manage. auth/apikey.c makes the key; it is returned
 * once, in the creation reply, and afterwards only its prefix and a mask are ever shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity_int.h"

#include "../audit/audit.h"
#include "../auth/apikey.h"

#define KEY_OBJECT                                                                                 \
    "json_build_object('id', k.id, 'user_id', k.user_id, 'name', k.name, 'prefix', k.prefix,"      \
    " 'masked', 'pnk_' || k.prefix || '_' || repeat('*', 8),"                                      \
    " 'permissions', to_json(k.permissions), 'created_at', k.created_at,"                          \
    " 'last_used_at', k.last_used_at, 'expires_at', k.expires_at, 'revoked_at', k.revoked_at,"     \
    " 'active', k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now()))"

/* Keys a user may hold that are neither revoked nor expired. */
#define KEYS_PER_USER_MAX 100

int
pnk_identity_apikeys_list(pn_req_t *req)
{
    const char *account, *self, *user = pnk_req_query(req, "user_id");
    pnk_identity_page_t pg;
    pn_rows_t *rows = NULL, *count = NULL;
    int rc;

    if ((rc = pnk_identity_caller(req, &account, &self)) != PN_OK ||
        (rc = pnk_identity_page_from_query(req, &pg)) != PN_OK)
        return rc;
    if (!user) {
        user = self;
    } else if (!pnk_identity_uuid_ok(user)) {
        pnk_fail_field(req, "user_id", "must be a uuid");
        return pnk_fail(req, PN_E_INVALID, "invalid query parameter");
    } else if (strcasecmp(user, self) != 0) {
        if (!pnk_req_can(req, "admin.api_keys.manage"))
            return pnk_fail(req, PN_E_FORBIDDEN,
                            "permission admin.api_keys.manage is required for other users' keys");
        const char *p[2] = {user, account};
        if ((rc = pnk_req_db_query(req,
                                   "SELECT 1 FROM users WHERE id = $1::uuid AND account_id = $2", 2,
                                   p, &rows)) != PN_OK)
            return rc;
        if (pnk_rows_count(rows) != 1)
            return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    }
    char limit[24], offset[24];
    (void)snprintf(limit, sizeof limit, "%ld", pg.per_page);
    (void)snprintf(offset, sizeof offset, "%ld", pg.offset);
    const char *params[4] = {account, user, limit, offset};
    if ((rc = pnk_req_db_query(req,
                               "SELECT " KEY_OBJECT " FROM api_keys k"
                               " WHERE k.account_id = $1 AND k.user_id = $2::uuid"
                               " ORDER BY k.created_at DESC, k.id DESC"
                               " LIMIT $3::bigint OFFSET $4::bigint",
                               4, params, &rows)) != PN_OK ||
        (rc = pnk_req_db_query(req,
                               "SELECT count(*) FROM api_keys k"
                               " WHERE k.account_id = $1 AND k.user_id = $2::uuid",
                               2, params, &count)) != PN_OK)
        return rc;
    json_t *list = pnk_identity_objects(rows, 0);
    const char *total = pnk_identity_value(count, 0);
    if (!list)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    return pnk_reply_json(req, 200, list,
                          pnk_identity_page_meta(&pg, total ? strtol(total, NULL, 10) : 0));
}

/* An expiry must lie ahead; the schema already checked the RFC 3339 shape. */
static int
check_expiry(pn_req_t *req, const char *expires)
{
    pn_rows_t *rows = NULL;
    int rc;

    if (!expires)
        return PN_OK;
    if (!pnk_identity_rfc3339_ok(expires)) {
        pnk_fail_field(req, "expires_at", "must be an RFC 3339 date-time");
        return pnk_fail(req, PN_E_INVALID, "request body failed validation");
    }
    if ((rc = pnk_req_db_query(req, "SELECT $1::timestamptz > now()", 1, &expires, &rows)) != PN_OK)
        return rc;
    if (strcmp(pnk_identity_value(rows, 0), "t") != 0) {
        pnk_fail_field(req, "expires_at", "must be in the future");
        return pnk_fail(req, PN_E_INVALID, "request body failed validation");
    }
    return PN_OK;
}

int
pnk_identity_apikeys_create(pn_req_t *req)
{
    json_t *body = pnk_req_json(req), *want = NULL, *made = NULL;
    const char *account, *self, *name = json_string_value(json_object_get(body, "name"));
    const char *expires = json_string_value(json_object_get(body, "expires_at"));
    pn_rows_t *rows = NULL;
    int rc;

    if ((rc = pnk_identity_caller(req, &account, &self)) != PN_OK)
        return rc;
    if (!name)
        return pnk_fail(req, PN_E_INVALID, "name is required");
    /* A key acts for its owner with at most these, so only held permissions may go in.
     * pnk_apikey_create checks that too; this gives one detail per unknown entry. */
    if ((rc = pnk_identity_check_grant(req, json_object_get(body, "permissions"), "permissions",
                                       &want)) != PN_OK)
        return rc;
    pnk_req_keep_json(req, want);
    if ((rc = check_expiry(req, expires)) != PN_OK)
        return rc;
    size_t n = json_array_size(want);
    const char **perms = pnk_req_alloc(req, (n ? n : 1) * sizeof *perms);
    if (!perms)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        perms[i] = json_string_value(json_array_get(want, i));

    const char *owner[1] = {self};
    if ((rc = pnk_req_db_begin(req)) != PN_OK)
        return rc;
    /* Counting under the owner's row lock keeps two concurrent creations within the cap. */
    if ((rc = pnk_req_db_query(req, "SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE", 1, owner,
                               NULL)) != PN_OK ||
        (rc = pnk_req_db_query(req,
                               "SELECT count(*) FROM api_keys WHERE user_id = $1::uuid"
                               "   AND revoked_at IS NULL"
                               "   AND (expires_at IS NULL OR expires_at > now())",
                               1, owner, &rows)) != PN_OK)
        return pnk_identity_abort(req, rc);
    const char *count = pnk_identity_value(rows, 0);
    if (count && strtol(count, NULL, 10) >= KEYS_PER_USER_MAX)
        return pnk_identity_abort(req,
                                  pnk_fail(req, PN_E_CONFLICT,
                                           "at most %d active API keys per user; revoke one first",
                                           KEYS_PER_USER_MAX));
    if ((rc = pnk_apikey_create(req, self, name, perms, n, expires, &made)) != PN_OK)
        return pnk_identity_abort(req, rc);
    /* The reply owns the only copy of the key from here on. */
    pnk_req_keep_json(req, made);
    const char *id = json_string_value(json_object_get(made, "id"));
    json_t *key = json_object_get(made, "key");
    if (!id || !json_is_string(key))
        return pnk_identity_abort(req, pnk_fail(req, PN_E_INTERNAL, "API key not created"));

    pnk_audit_event_t ev = {
        .action = "api_keys.create",
        .target_type = "api_key",
        .target_id = id,
        .result = "success",
        .details =
            json_pack("{s:s, s:s?, s:O}", "name", name, "prefix",
                      json_string_value(json_object_get(made, "prefix")), "permissions", want),
    };
    if ((rc = pnk_audit_record(req, &ev)) != PN_OK)
        return pnk_identity_abort(req,
                                  pnk_fail(req, rc, "could not record the key in the audit log"));
    if ((rc = pnk_req_db_query(req, "SELECT " KEY_OBJECT " FROM api_keys k WHERE k.id = $1::uuid",
                               1, &id, &rows)) != PN_OK ||
        (rc = pnk_req_db_commit(req)) != PN_OK)
        return pnk_identity_abort(req, rc);

    json_t *obj = pnk_identity_object(rows, 0);
    if (!obj || json_object_set(obj, "key", key) != 0) {
        json_decref(obj);
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    }
    return pnk_reply_json(req, 201, obj, NULL);
}

int
pnk_identity_apikeys_revoke(pn_req_t *req)
{
    const char *account, *self, *id = pnk_req_param(req, "id");
    pn_rows_t *rows = NULL;
    int rc;

    if ((rc = pnk_identity_caller(req, &account, &self)) != PN_OK)
        return rc;
    if (!pnk_identity_uuid_ok(id))
        return pnk_fail(req, PN_E_NOTFOUND, "API key not found");
    /* Another user's key is "not found" unless the caller administers keys: its existence is
     * none of their business. */
    const char *params[4] = {id, account, self,
                             pnk_req_can(req, "admin.api_keys.manage") ? "t" : "f"};
    if ((rc = pnk_req_db_query(req,
                               "UPDATE api_keys k SET revoked_at = COALESCE(k.revoked_at, now())"
                               " WHERE k.id = $1::uuid AND k.account_id = $2"
                               "   AND (k.user_id = $3::uuid OR $4::boolean)"
                               " RETURNING " KEY_OBJECT,
                               4, params, &rows)) != PN_OK)
        return rc;
    json_t *obj = pnk_identity_object(rows, 0);
    if (!obj)
        return pnk_fail(req, PN_E_NOTFOUND, "API key not found");
    return pnk_reply_json(req, 200, obj, NULL);
}
