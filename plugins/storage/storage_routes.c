/*
 * Storage configuration routes: list, show, create, update, delete and test the caller
 * account's file_storages. Credentials go in sealed and never come out: replies carry masks.
 */
#include "storage_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ADMIN_READ "admin.storage.read"
#define ADMIN_MANAGE "admin.storage.manage"

const pn_perm_t storage_perms[] = {
    {"storage.configs.read", "List and show storage configurations", "Storage"},
    {"storage.configs.create", "Create storage configurations", "Storage"},
    {"storage.configs.update", "Change storage configurations and the default", "Storage"},
    {"storage.configs.delete", "Delete storage configurations", "Storage"},
    {"storage.configs.test", "Test the connection of a storage configuration", "Storage"},
    {ADMIN_READ, "List and show another account's storage configurations (?account_id=)",
     "Storage"},
    {ADMIN_MANAGE, "Change another account's storage name, quota and status (?account_id=)",
     "Storage"},
    PN_PERM_END,
};

#define PROVIDERS "[\"local\",\"s3\",\"azure\",\"gcs\"]"
#define STATUSES "[\"active\",\"inactive\",\"maintenance\",\"failed\"]"

static const char create_schema[] =
    "{\"type\":\"object\",\"required\":[\"name\",\"provider_type\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255},"
    "\"provider_type\":{\"type\":\"string\",\"enum\":" PROVIDERS "},"
    "\"is_default\":{\"type\":\"boolean\"},"
    "\"quota_bytes\":{\"type\":[\"integer\",\"null\"],\"minimum\":0},"
    "\"status\":{\"type\":\"string\",\"enum\":" STATUSES "},"
    "\"configuration\":{\"type\":\"object\",\"description\":\"provider fields; see the "
    "storage plugin README\"}}}";

static const char update_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255},"
    "\"is_default\":{\"type\":\"boolean\"},"
    "\"quota_bytes\":{\"type\":[\"integer\",\"null\"],\"minimum\":0},"
    "\"status\":{\"type\":\"string\",\"enum\":" STATUSES "},"
    "\"configuration\":{\"type\":\"object\",\"description\":\"fields to change; null removes "
    "a field\"}}}";

static const char storage_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"string\",\"format\":\"uuid\"},\"name\":{\"type\":\"string\"},"
    "\"provider_type\":{\"type\":\"string\"},\"is_default\":{\"type\":\"boolean\"},"
    "\"quota_bytes\":{\"type\":[\"integer\",\"null\"]},\"used_bytes\":{\"type\":\"integer\"},"
    "\"files_count\":{\"type\":\"integer\"},\"status\":{\"type\":\"string\"},"
    "\"health_status\":{\"type\":[\"string\",\"null\"]},"
    "\"configuration\":{\"type\":\"object\",\"description\":\"credentials masked\"},"
    "\"created_at\":{\"type\":\"string\"},\"updated_at\":{\"type\":\"string\"}}}";

static const char list_schema[] =
    "{\"type\":\"object\",\"properties\":{\"storages\":{\"type\":\"array\"},"
    "\"total_count\":{\"type\":\"integer\"},"
    "\"default_storage\":{\"type\":[\"string\",\"null\"]}}}";

static const char test_schema[] =
    "{\"type\":\"object\",\"properties\":{\"connected\":{\"type\":\"boolean\"},"
    "\"provider_type\":{\"type\":\"string\"},\"status\":{\"type\":\"string\"},"
    "\"checked_at\":{\"type\":\"string\"}}}";

static void
on_problem(void *ud, const char *field, const char *msg)
{
    pn_fail_field(ud, field, "%s", msg);
}

/* The API form of a row: every column but account_id, credentials replaced by masks. */
static json_t *
view(pn_req_t *req, const storage_row_t *row)
{
    json_t *o = json_deep_copy(row->row);
    json_t *conf = json_deep_copy(row->pub);
    st_err_t e = {0};
    json_t *secret;

    json_object_del(o, "account_id");
    if (st_conf_has_secrets(row->provider_type)) {
        if (storage_row_secrets(req, row, &secret, &e) == PN_OK && secret != NULL) {
            json_object_update(
                conf, pn_host_->req_keep_json(req, st_conf_mask(row->provider_type, secret)));
        } else {
            PN_WARN("storage id=%s credentials unreadable: %s", row->id, e.msg);
            json_object_set_new(conf, "credentials", json_string("unreadable"));
        }
    }
    json_object_set_new(o, "configuration", conf);
    return o;
}

static const char *
account_of(pn_req_t *req)
{
    return pn_host_->req_account_id(req);
}

/*
 * The account a handler works in: the caller's, or the one an explicit ?account_id= names
 * when the caller holds admin.storage.read (reads) or admin.storage.manage (changes). A
 * foreign storage id without the query stays a 404.
 */
static int
scope(pn_req_t *req, bool manage, const char **account)
{
    const char *want = pn_req_query(req, "account_id");
    const char *perm = manage ? ADMIN_MANAGE : ADMIN_READ;

    *account = account_of(req);
    if (*account == NULL)
        return pn_fail(req, PN_E_FORBIDDEN, "an account is required");
    if (want == NULL || strcasecmp(want, *account) == 0)
        return PN_OK;
    if (!storage_is_uuid(want)) {
        pn_fail_field(req, "account_id", "must be a uuid");
        return pn_fail(req, PN_E_INVALID, "invalid query parameter account_id");
    }
    if (!pn_host_->req_can(req, perm))
        return pn_fail(req, PN_E_FORBIDDEN, "permission %s is required to %s another account", perm,
                       manage ? "change" : "read");
    *account = want;
    return PN_OK;
}

static int
storage_list(pn_req_t *req)
{
    const char *account;
    pn_rows_t *rows;
    int rc;

    if ((rc = scope(req, false, &account)) != PN_OK)
        return rc;
    /* A read of another account never creates rows there. */
    if (strcmp(account, account_of(req)) == 0 && (rc = storage_default_ensure(req)) != PN_OK)
        return rc;
    rc = pn_db_query(req, &rows,
                     "SELECT " ROW_COLUMNS " FROM file_storages WHERE account_id = $1 "
                     "ORDER BY is_default DESC, created_at DESC, id LIMIT 500",
                     account);
    if (rc != PN_OK)
        return rc;
    json_t *list = pn_host_->req_keep_json(req, pn_host_->rows_json(rows));
    json_t *out = json_array();
    json_t *def = json_null();
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        storage_row_t *row;
        if ((rc = storage_row_from_json(req, o, &row)) != PN_OK) {
            json_decref(out);
            return rc;
        }
        if (row->is_default)
            def = json_string(row->id);
        json_array_append_new(out, view(req, row));
    }
    return pn_reply_ok(req, json_pack("{s:o, s:I, s:o}", "storages", out, "total_count",
                                      (json_int_t)json_array_size(out), "default_storage", def));
}

static int
load_own(pn_req_t *req, storage_row_t **row)
{
    if (account_of(req) == NULL)
        return pn_fail(req, PN_E_NOTFOUND, "storage not found");
    return storage_row_load(req, pn_req_param(req, "id"), row);
}

static int
storage_show(pn_req_t *req)
{
    const char *account;
    storage_row_t *row;
    int rc;

    if ((rc = scope(req, false, &account)) != PN_OK ||
        (rc = storage_row_load_in(req, account, pn_req_param(req, "id"), &row)) != PN_OK)
        return rc;
    return pn_reply_ok(req, view(req, row));
}

/*
 * Check a complete configuration of `type` for storage `id` and produce what is stored: the
 * public fields plus the sealed credentials. A local storage without a root gets its own
 * folder below local_root.
 */
static int
prepare(pn_req_t *req, const char *type, const char *id, json_t *conf, char **stored)
{
    const char *account = account_of(req);
    json_t *pub, *secret;
    st_err_t e = {0};
    st_backend_t *b;

    if (strcmp(type, "local") == 0) {
        json_t *root = json_object_get(conf, "root");
        if (root == NULL || json_is_null(root))
            json_object_set_new(conf, "root",
                                json_string(pn_req_printf(
                                    req, "%s/%s/%s", storage_settings.local_root, account, id)));
    }
    /* A null in an update removes the field. */
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(conf, tmp, k, v)
    {
        if (json_is_null(v))
            json_object_del(conf, k);
    }
    if (st_conf_check(type, conf, on_problem, req) > 0)
        return pn_fail(req, PN_E_INVALID, "configuration is not valid for provider %s", type);
    if (strcmp(type, "local") == 0) {
        const char *root = json_string_value(json_object_get(conf, "root"));
        if (root[0] != '/' || !storage_root_allowed(root, account)) {
            pn_fail_field(req, "configuration.root",
                          "must be <root>/<account id> or below it, for the plugin's local_root "
                          "or one of its local_allowed_roots");
            return pn_fail(req, PN_E_INVALID, "configuration is not valid for provider local");
        }
    }
    st_conf_split(type, conf, &pub, &secret);
    pn_host_->req_keep_json(req, pub);
    pn_host_->req_keep_json(req, secret);
    /* Building a backend checks what the field table cannot: names, endpoint, key format. */
    if (st_backend_new(type, pub, secret, &storage_settings.opts, &b, &e) != PN_OK) {
        pn_fail_field(req, "configuration", "%s", e.msg);
        return pn_fail(req, PN_E_INVALID, "configuration is not valid for provider %s", type);
    }
    st_backend_free(b);
    if (json_object_size(secret) > 0) {
        if (!storage_settings.master.set) {
            pn_fail_field(req, "configuration",
                          "this server cannot store credentials: plugins.storage.master_key "
                          "is not set");
            return pn_fail(req, PN_E_INVALID, "credentials cannot be stored on this server");
        }
        json_t *sealed =
            st_seal(&storage_settings.master, secret, storage_aad(req, id, account), &e);
        if (sealed == NULL)
            return storage_fail(req, "seal", &e);
        json_object_set_new(pub, "credentials", sealed);
    }
    char *text = json_dumps(pub, JSON_COMPACT);
    *stored = text ? pn_host_->req_strdup(req, text) : NULL;
    free(text);
    return *stored ? PN_OK : pn_fail(req, PN_E_INTERNAL, "out of memory");
}

/* Serialise changes of the account's default, and clear it when `make_default`. */
static int
lock_defaults(pn_req_t *req, const char *account, bool make_default)
{
    int rc = pn_db_query(
        req, NULL, "SELECT pg_advisory_xact_lock(hashtext('file_storages:' || $1::text))", account);
    if (rc == PN_OK && make_default)
        rc = pn_db_query(req, NULL,
                         "UPDATE file_storages SET is_default = false, updated_at = now() "
                         "WHERE account_id = $1 AND is_default",
                         account);
    return rc;
}

static const char *
quota_text(pn_req_t *req, json_t *q)
{
    return json_is_integer(q) ? pn_req_printf(req, "%lld", (long long)json_integer_value(q)) : NULL;
}

static int
reply_row(pn_req_t *req, pn_rows_t *rows, int status)
{
    storage_row_t *row;
    json_t *list = pn_host_->req_keep_json(req, pn_host_->rows_json(rows));
    int rc = storage_row_from_json(req, json_array_get(list, 0), &row);
    if (rc != PN_OK)
        return rc;
    return pn_host_->reply_json(req, status, view(req, row), NULL);
}

static int
storage_create(pn_req_t *req)
{
    json_t *body = pn_req_json(req);
    const char *type = json_string_value(json_object_get(body, "provider_type"));
    json_t *conf = json_object_get(body, "configuration");
    char id[37], *stored;
    pn_rows_t *rows;
    int rc;

    if (account_of(req) == NULL)
        return pn_fail(req, PN_E_FORBIDDEN, "an account is required");
    pn_host_->uuid_v7(id);
    conf = pn_host_->req_keep_json(req, conf ? json_deep_copy(conf) : json_object());
    if ((rc = prepare(req, type, id, conf, &stored)) != PN_OK)
        return rc;
    bool make_default = json_is_true(json_object_get(body, "is_default"));
    const char *status = json_string_value(json_object_get(body, "status"));
    if ((rc = pn_host_->db_begin(req)) != PN_OK)
        return rc;
    if ((rc = lock_defaults(req, account_of(req), make_default)) != PN_OK ||
        (rc = pn_db_query(
             req, &rows,
             "INSERT INTO file_storages (id, account_id, name, provider_type, configuration, "
             "is_default, quota_bytes, status) "
             "VALUES ($1, $2, $3, $4, $5::jsonb, $6::boolean OR NOT EXISTS (SELECT 1 FROM "
             "file_storages WHERE account_id = $2 AND is_default), $7::bigint, "
             "COALESCE($8, 'active')) RETURNING " ROW_COLUMNS,
             id, account_of(req), json_string_value(json_object_get(body, "name")), type, stored,
             make_default ? "true" : "false", quota_text(req, json_object_get(body, "quota_bytes")),
             status)) != PN_OK ||
        (rc = pn_host_->db_commit(req)) != PN_OK) {
        pn_host_->db_rollback(req);
        return rc;
    }
    PN_INFO("storage created id=%s provider=%s", id, type);
    return reply_row(req, rows, 201);
}

static int
storage_update(pn_req_t *req)
{
    json_t *body = pn_req_json(req);
    const char *account;
    storage_row_t *row;
    char *stored = NULL;
    pn_rows_t *rows;
    st_err_t e = {0};
    int rc;

    if ((rc = scope(req, true, &account)) != PN_OK ||
        (rc = storage_row_load_in(req, account, pn_req_param(req, "id"), &row)) != PN_OK)
        return rc;
    json_t *patch = json_object_get(body, "configuration");
    /* Credentials, roots and the default stay with the account's own administrators. */
    if (strcmp(account, account_of(req)) != 0 && (patch || json_object_get(body, "is_default"))) {
        pn_fail_field(req, patch ? "configuration" : "is_default",
                      "only name, quota_bytes and status of another account's storage change");
        return pn_fail(req, PN_E_INVALID, "invalid change of another account's storage");
    }
    if (patch != NULL) {
        json_t *secret;
        if (storage_row_secrets(req, row, &secret, &e) != PN_OK)
            return storage_fail(req, "unseal", &e);
        json_t *full = pn_host_->req_keep_json(req, json_deep_copy(row->pub));
        if (secret != NULL)
            json_object_update(full, secret);
        const char *old_root = json_string_value(json_object_get(row->pub, "root"));
        json_object_update(full, patch);
        const char *new_root = json_string_value(json_object_get(full, "root"));
        if (strcmp(row->provider_type, "local") == 0 && row->used_bytes > 0 &&
            (new_root == NULL || old_root == NULL || strcmp(old_root, new_root) != 0))
            return pn_fail(req, PN_E_CONFLICT, "the root of a storage holding files cannot move");
        if ((rc = prepare(req, row->provider_type, row->id, full, &stored)) != PN_OK)
            return rc;
    }
    json_t *def = json_object_get(body, "is_default");
    if (json_is_false(def) && row->is_default)
        return pn_fail(req, PN_E_INVALID,
                       "the default storage stays default until another storage is made default");
    json_t *quota = json_object_get(body, "quota_bytes");
    if ((rc = pn_host_->db_begin(req)) != PN_OK)
        return rc;
    if ((rc = lock_defaults(req, account, json_is_true(def) && !row->is_default)) != PN_OK ||
        (rc = pn_db_query(req, &rows,
                          "UPDATE file_storages SET name = COALESCE($3, name), "
                          "configuration = COALESCE($4::jsonb, configuration), "
                          "is_default = is_default OR $5::boolean, "
                          "quota_bytes = CASE WHEN $6::boolean THEN $7::bigint ELSE quota_bytes "
                          "END, status = COALESCE($8, status), updated_at = now() "
                          "WHERE id = $1 AND account_id = $2 RETURNING " ROW_COLUMNS,
                          row->id, account, json_string_value(json_object_get(body, "name")),
                          stored, json_is_true(def) ? "true" : "false", quota ? "true" : "false",
                          quota_text(req, quota),
                          json_string_value(json_object_get(body, "status")))) != PN_OK ||
        (rc = pn_host_->db_commit(req)) != PN_OK) {
        pn_host_->db_rollback(req);
        return rc;
    }
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "storage not found");
    PN_INFO("storage updated id=%s", row->id);
    return reply_row(req, rows, 200);
}

/*
 * Deleting is refused for the default and for a storage whose counters say it holds bytes;
 * rows of other plugins that reference file_storages (files) make the DELETE a foreign-key
 * conflict, which is a 409 as well. Stored objects are never removed here.
 */
static int
storage_delete(pn_req_t *req)
{
    storage_row_t *row;
    pn_rows_t *rows;
    int rc;

    if ((rc = load_own(req, &row)) != PN_OK)
        return rc;
    /* The load sets row whenever it returns PN_OK; the analyzer assumes pn_fail (the
     * host's vfail behind pn_host_, which returns a negative code) might return PN_OK. */
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    if (row->is_default)
        return pn_fail(req, PN_E_CONFLICT,
                       "the default storage cannot be deleted; make another storage the default "
                       "first");
    if ((rc = pn_host_->db_begin(req)) != PN_OK)
        return rc;
    if ((rc = lock_defaults(req, account_of(req), false)) != PN_OK ||
        (rc = pn_db_query(req, &rows,
                          "DELETE FROM file_storages WHERE id = $1 AND account_id = $2 "
                          "AND NOT is_default AND used_bytes = 0 AND files_count = 0 "
                          "RETURNING id",
                          row->id, account_of(req))) != PN_OK) {
        pn_host_->db_rollback(req);
        return rc == PN_E_CONFLICT ? pn_fail(req, PN_E_CONFLICT, "the storage still holds files")
                                   : rc;
    }
    if (pn_rows_count(rows) == 0) {
        pn_host_->db_rollback(req);
        return pn_fail(req, PN_E_CONFLICT, "the storage still holds files or became the default");
    }
    if ((rc = pn_host_->db_commit(req)) != PN_OK)
        return rc;
    PN_INFO("storage deleted id=%s", row->id);
    return pn_reply_empty(req);
}

static int
storage_test(pn_req_t *req)
{
    storage_row_t *row;
    st_backend_t *b;
    st_err_t e = {0};
    pn_rows_t *rows;
    int rc;

    if ((rc = load_own(req, &row)) != PN_OK)
        return rc;
    /* The load sets row whenever it returns PN_OK; the analyzer assumes pn_fail (the
     * host's vfail behind pn_host_, which returns a negative code) might return PN_OK. */
    /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
    rc = storage_backend_open(req, row, &b, &e);
    if (rc == PN_OK)
        rc = st_health(b, &e);
    const char *details = rc == PN_OK ? "{}" : NULL;
    json_t *d = rc == PN_OK ? NULL : json_pack("{s:s}", "error", e.msg);
    char *dtext = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (dtext != NULL) {
        details = pn_host_->req_strdup(req, dtext);
        free(dtext);
    }
    int urc = pn_db_query(req, &rows,
                          "UPDATE file_storages SET health_status = $3, health_details = "
                          "$4::jsonb, last_health_check_at = now() WHERE id = $1 AND "
                          "account_id = $2 RETURNING last_health_check_at",
                          row->id, account_of(req), rc == PN_OK ? "healthy" : "failed", details);
    if (urc != PN_OK)
        return urc;
    const char *checked = pn_rows_value(rows, 0, 0);
    if (rc != PN_OK) {
        PN_INFO("storage test id=%s result=failed rc=%d", row->id, rc);
        return pn_fail(req, PN_E_INVALID, "connection test failed: %s", e.msg);
    }
    return pn_reply_ok(req,
                       json_pack("{s:b, s:s, s:s, s:s?}", "connected", 1, "provider_type",
                                 row->provider_type, "status", "healthy", "checked_at", checked));
}

const pn_route_t storage_routes[] = {
    {PN_GET, "/api/v1/storage", "storage.configs.read", storage_list,
     "List this account's storage configurations (the default first); another account's with "
     "?account_id= and admin.storage.read",
     0, NULL, list_schema, 0},
    {PN_POST, "/api/v1/storage", "storage.configs.create", storage_create,
     "Create a storage configuration", 65536, create_schema, storage_schema, 0},
    {PN_GET, "/api/v1/storage/:id", "storage.configs.read", storage_show,
     "Show a storage configuration (credentials masked); ?account_id= with admin.storage.read", 0,
     NULL, storage_schema, 0},
    {PN_PATCH, "/api/v1/storage/:id", "storage.configs.update", storage_update,
     "Change a storage configuration (configuration fields are merged); name, quota and status "
     "of another account's with ?account_id= and admin.storage.manage",
     65536, update_schema, storage_schema, 0},
    {PN_DELETE, "/api/v1/storage/:id", "storage.configs.delete", storage_delete,
     "Delete a storage configuration that holds no files and is not the default", 0, NULL, NULL, 0},
    {PN_POST, "/api/v1/storage/:id/test", "storage.configs.test", storage_test,
     "Test the connection of a storage configuration", 0, NULL, test_schema, 0},
    PN_ROUTE_END,
};
