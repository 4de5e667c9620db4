/* API keys: creation for the admin routes and authentication of requests; see apikey.h. */
#include "apikey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "codec.h"
#include "signin.h"

#include "../core/log.h"

#define PREFIX_BYTES ((size_t)4)
#define SECRET_BYTES ((size_t)32)

bool
pnk_apikey_shaped(const char *credential)
{
    return credential && strncmp(credential, "pnk_", 4) == 0;
}

/* Split "pnk_<8 hex>_<43 base64url>" into its prefix; false when malformed. */
static bool
parse_key(const char *key, char prefix[2 * PREFIX_BYTES + 1])
{
    size_t n = strlen(key);
    if (n != 4 + 2 * PREFIX_BYTES + 1 + PNK_B64URL_LEN(SECRET_BYTES) - 1 ||
        key[4 + 2 * PREFIX_BYTES] != '_')
        return false;
    for (size_t i = 4; i < 4 + 2 * PREFIX_BYTES; i++)
        if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
            return false;
    for (size_t i = 5 + 2 * PREFIX_BYTES; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    memcpy(prefix, key + 4, 2 * PREFIX_BYTES);
    prefix[2 * PREFIX_BYTES] = '\0';
    return true;
}

static const char sql_key[] =
    "SELECT k.id, k.user_id, k.account_id, u.email,"
    "       k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute',"
    "       EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
    "                WHERE ur.user_id = u.id AND r.all_permissions"
    "                  AND (r.account_id IS NULL OR r.account_id = u.account_id))"
    "  FROM api_keys k"
    "  JOIN users u ON u.id = k.user_id AND u.account_id = k.account_id"
    "  JOIN accounts a ON a.id = k.account_id"
    " WHERE k.prefix = $1 AND k.key_hash = decode($2, 'hex') AND k.revoked_at IS NULL"
    "   AND (k.expires_at IS NULL OR k.expires_at > now())"
    "   AND u.status = 'active' AND a.status = 'active'";

/* The key's permissions the owner holds now ($3: the owner has every permission). */
static const char sql_key_perms[] =
    "SELECT DISTINCT kp.name FROM api_keys k, unnest(k.permissions) AS kp(name)"
    " WHERE k.id = $1 AND ($3::boolean OR kp.name IN ("
    "   SELECT rp.permission FROM user_roles ur"
    "     JOIN roles r ON r.id = ur.role_id AND (r.account_id IS NULL OR r.account_id = $4)"
    "     JOIN role_permissions rp ON rp.role_id = r.id"
    "    WHERE ur.user_id = $2))";

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
pnk_apikey_authenticate(pn_req_t *req, const char *key, char *why, size_t whylen)
{
    char prefix[2 * PREFIX_BYTES + 1], hash[65];
    if (!parse_key(key, prefix)) {
        (void)snprintf(why, whylen, "malformed API key");
        return PN_E_UNAUTH;
    }
    pnk_signin_hash(key, hash);
    const char *params[] = {prefix, hash};
    pn_rows_t *rows = NULL;
    int rc = pnk_req_db_query(req, sql_key, 2, params, &rows);
    if (rc != PN_OK)
        return rc;
    if (pnk_rows_count(rows) != 1) {
        (void)snprintf(why, whylen, "API key unknown, revoked or expired, or its owner inactive");
        return PN_E_UNAUTH;
    }
    pnk_principal_t *p = &req->principal;
    p->token_id = pnk_rows_value(rows, 0, 0);
    p->user_id = pnk_rows_value(rows, 0, 1);
    p->account_id = pnk_rows_value(rows, 0, 2);
    p->email = pnk_rows_value(rows, 0, 3);
    bool stale = strcmp(pnk_rows_value(rows, 0, 4), "t") == 0;
    const char *pp[] = {p->token_id, p->user_id, pnk_rows_value(rows, 0, 5), p->account_id};
    if ((rc = pnk_req_db_query(req, sql_key_perms, 4, pp, &rows)) != PN_OK)
        return rc;
    int n = pnk_rows_count(rows);
    if (n > 0) {
        const char **perms = pnk_arena_calloc(req->arena, (size_t)n, sizeof *perms);
        if (!perms)
            return pnk_fail(req, PN_E_INTERNAL, "out of memory");
        for (int i = 0; i < n; i++)
            perms[i] = pnk_rows_value(rows, i, 0);
        qsort(perms, (size_t)n, sizeof *perms, cmp_str); /* strcmp order for bsearch */
        p->perms = perms;
        p->nperms = (size_t)n;
    }
    if (stale && (rc = pnk_req_db_query(req,
                                        "UPDATE api_keys SET last_used_at = now() WHERE id = $1"
                                        "   AND (last_used_at IS NULL"
                                        "        OR last_used_at < now() - interval '1 minute')",
                                        1, &p->token_id, NULL)) != PN_OK)
        return rc;
    p->all_perms = false; /* a key holds what it lists, even for an admin owner */
    p->kind = PNK_PRINCIPAL_APIKEY;
    return PN_OK;
}

/* ---- creation ---- */

static int
invalid(pn_req_t *req, const char *field, const char *msg)
{
    pnk_fail_field(req, field, "%s", msg);
    return pnk_fail(req, PN_E_INVALID, "%s %s", field, msg);
}

static int
check_perms(pn_req_t *req, const char *const *perms, size_t n, char **json_out)
{
    if (!perms || n == 0 || n > PNK_APIKEY_MAX_PERMS)
        return invalid(req, "permissions", "must list 1..100 permissions");
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (!perms[i] || !pnk_principal_can(&req->principal, perms[i])) {
            json_decref(arr);
            return pnk_fail(req, PN_E_FORBIDDEN, "you cannot grant permission %s",
                            perms[i] ? perms[i] : "(null)");
        }
        json_array_append_new(arr, json_string(perms[i]));
    }
    char *text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!text)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    *json_out = pnk_arena_strdup(req->arena, text);
    free(text);
    if (!*json_out)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");

    /* An admin holds every permission, registered or not: only the registry can say. */
    pn_rows_t *rows = NULL;
    const char *p0 = *json_out;
    int rc = pnk_req_db_query(req,
                              "SELECT x FROM jsonb_array_elements_text($1::jsonb) AS x"
                              " WHERE x NOT IN (SELECT name FROM permissions) LIMIT 1",
                              1, &p0, &rows);
    if (rc != PN_OK)
        return rc;
    if (pnk_rows_count(rows) > 0) {
        pnk_fail_field(req, "permissions", "unknown permission %s", pnk_rows_value(rows, 0, 0));
        return pnk_fail(req, PN_E_INVALID, "unknown permission %s", pnk_rows_value(rows, 0, 0));
    }
    return PN_OK;
}

static int
check_expiry(pn_req_t *req, const char *expires_at)
{
    if (!expires_at)
        return PN_OK;
    if (strlen(expires_at) > 64)
        return invalid(req, "expires_at", "must be an ISO 8601 time");
    pn_rows_t *rows = NULL;
    /* Validated by PostgreSQL's own parser, which will read it when the row is written. */
    int rc = pnk_req_db_query(req, "SELECT $1::timestamptz > now()", 1, &expires_at, &rows);
    if (rc == PN_E_INVALID)
        return invalid(req, "expires_at", "must be an ISO 8601 time");
    if (rc != PN_OK)
        return rc;
    if (strcmp(pnk_rows_value(rows, 0, 0), "t") != 0)
        return invalid(req, "expires_at", "must be in the future");
    return PN_OK;
}

int
pnk_apikey_create(pn_req_t *req, const char *user_id, const char *name, const char *const *perms,
                  size_t n, const char *expires_at, json_t **out_with_plaintext)
{
    *out_with_plaintext = NULL;
    const char *account_id = req->principal.account_id;
    char *perms_json = NULL;
    if (!account_id)
        return pnk_fail(req, PN_E_FORBIDDEN, "API keys are created by a signed-in user");
    size_t nlen = name ? strlen(name) : 0;
    if (nlen == 0 || nlen > 100)
        return invalid(req, "name", "must be 1..100 characters");
    int rc = check_perms(req, perms, n, &perms_json);
    if (rc == PN_OK)
        rc = check_expiry(req, expires_at);
    if (rc != PN_OK)
        return rc;

    pn_rows_t *rows = NULL;
    const char *up[] = {user_id, account_id};
    if ((rc = pnk_req_db_query(req,
                               "SELECT 1 FROM users WHERE id = $1 AND account_id = $2"
                               "   AND status = 'active'",
                               2, up, &rows)) != PN_OK &&
        rc != PN_E_INVALID)
        return rc;
    if (rc == PN_E_INVALID || pnk_rows_count(rows) != 1) /* not even a uuid: not found either */
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");

    unsigned char pre[PREFIX_BYTES], sec[SECRET_BYTES];
    char prefix[2 * PREFIX_BYTES + 1], secret[PNK_B64URL_LEN(SECRET_BYTES)], id[37], hash[65];
    if (!pnk_codec_random(pre, sizeof pre) || !pnk_codec_random(sec, sizeof sec))
        return pnk_fail(req, PN_E_INTERNAL, "no randomness for an API key");
    pnk_codec_hex(pre, sizeof pre, prefix);
    pnk_codec_b64url(sec, sizeof sec, secret, sizeof secret);
    char *key = pnk_arena_printf(req->arena, "pnk_%s_%s", prefix, secret);
    if (!key)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    pnk_signin_hash(key, hash);
    pnk_uuid_v7(id);
    const char *params[] = {id, account_id, user_id, name, prefix, hash, perms_json, expires_at};
    if ((rc = pnk_req_db_query(
             req,
             "INSERT INTO api_keys (id, account_id, user_id, name, prefix, key_hash, permissions,"
             "                      expires_at)"
             " VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'),"
             "         ARRAY(SELECT DISTINCT x FROM jsonb_array_elements_text($7::jsonb) AS x"
             "                ORDER BY 1), $8::timestamptz)"
             " RETURNING id, name, prefix, user_id, to_jsonb(permissions) AS permissions,"
             "           expires_at, created_at",
             8, params, &rows)) != PN_OK)
        return rc;
    json_t *all = pnk_rows_json(rows);
    json_t *row = json_incref(json_array_get(all, 0));
    json_decref(all);
    if (!row || json_object_set_new(row, "key", json_string(key)) != 0) {
        json_decref(row);
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    }
    PNK_INFO("auth", "api key created id=%s prefix=%s user=%s", id, prefix, user_id);
    *out_with_plaintext = row;
    return PN_OK;
}
