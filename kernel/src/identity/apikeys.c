/*
 * /api/v1/api_keys: a user's own API keys (list, create, revoke), and everyone's in the
 * account for holders of admin.api_keys.manage. A new key is returned once, in the creation
 * reply; afterwards only its prefix and a mask are ever shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "identity_int.h"

#include "../audit/audit.h"

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
    snprintf(limit, sizeof limit, "%ld", pg.per_page);
    snprintf(offset, sizeof offset, "%ld", pg.offset);
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
    json_t *body = pnk_req_json(req), *want = NULL;
    const char *account, *self, *name = json_string_value(json_object_get(body, "name"));
    const char *expires = json_string_value(json_object_get(body, "expires_at"));
    char key[PNK_IDENTITY_KEY_LEN + 1], prefix[PNK_IDENTITY_KEY_PREFIX_LEN + 1], hash[65];
    char id[37], *perms_text = NULL;
    pn_rows_t *rows = NULL;
    int rc;

    if ((rc = pnk_identity_caller(req, &account, &self)) != PN_OK)
        return rc;
    if (!name)
        return pnk_fail(req, PN_E_INVALID, "name is required");
    /* A key acts for its owner with at most these, so only held permissions may go in. */
    if ((rc = pnk_identity_check_grant(req, json_object_get(body, "permissions"), "permissions",
                                       &want)) != PN_OK)
        return rc;
    perms_text = json_dumps(want, JSON_COMPACT);
    json_decref(want);
    const char *perms = perms_text ? pnk_req_strdup(req, perms_text) : NULL;
    free(perms_text);
    if (!perms)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    if ((rc = check_expiry(req, expires)) != PN_OK)
        return rc;
    if (pnk_identity_apikey_generate(key, prefix, hash) != PN_OK)
        return pnk_fail(req, PN_E_INTERNAL, "cannot generate a key");

    pnk_uuid_v7(id);
    const char *params[7] = {id, account, self, name, prefix, hash, perms};
    const char *params_exp[1] = {expires};
    if ((rc = pnk_req_db_begin(req)) != PN_OK)
        goto out;
    /* Counting under the owner's row lock keeps two concurrent creations within the cap. */
    if ((rc = pnk_req_db_query(req, "SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE", 1,
                               &params[2], NULL)) != PN_OK ||
        (rc = pnk_req_db_query(
             req,
             "SELECT count(*) FROM api_keys WHERE user_id = $1::uuid"
             "   AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
             1, &params[2], &rows)) != PN_OK)
        goto out;
    if (strtol(pnk_identity_value(rows, 0), NULL, 10) >= KEYS_PER_USER_MAX) {
        rc = pnk_fail(req, PN_E_CONFLICT, "at most %d active API keys per user; revoke one first",
                      KEYS_PER_USER_MAX);
        goto out;
    }
    if ((rc = pnk_req_db_query(req,
                               "INSERT INTO api_keys (id, account_id, user_id, name, prefix,"
                               "                      key_hash, permissions)"
                               " VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'),"
                               "         ARRAY(SELECT jsonb_array_elements_text($7::jsonb)))",
                               7, params, NULL)) != PN_OK)
        goto out;
    if (expires) {
        const char *p[2] = {id, params_exp[0]};
        if ((rc = pnk_req_db_query(req,
                                   "UPDATE api_keys SET expires_at = $2::timestamptz"
                                   " WHERE id = $1::uuid",
                                   2, p, NULL)) != PN_OK)
            goto out;
    }
    pnk_audit_event_t ev = {
        .action = "api_keys.create",
        .target_type = "api_key",
        .target_id = id,
        .result = "success",
        .details = json_pack("{s:s, s:s, s:o*}", "name", name, "prefix", prefix, "permissions",
                             json_loads(perms, 0, NULL)),
    };
    if ((rc = pnk_audit_record(req, &ev)) != PN_OK) {
        rc = pnk_fail(req, rc, "could not record the key in the audit log");
        goto out;
    }
    if ((rc = pnk_req_db_query(req, "SELECT " KEY_OBJECT " FROM api_keys k WHERE k.id = $1::uuid",
                               1, params, &rows)) != PN_OK ||
        (rc = pnk_req_db_commit(req)) != PN_OK)
        goto out;

    json_t *obj = pnk_identity_object(rows, 0);
    if (!obj || json_object_set_new(obj, "key", json_string(key)) != 0) {
        json_decref(obj);
        rc = pnk_fail(req, PN_E_INTERNAL, "out of memory");
        goto out;
    }
    rc = pnk_reply_json(req, 201, obj, NULL);
out:
    OPENSSL_cleanse(key, sizeof key);
    if (rc != PN_OK)
        return pnk_identity_abort(req, rc);
    return rc;
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
