/*
 * The PN_STORAGE_SERVICE vtable other plugins call, and the file_storages row access it and
 * the routes share: load a row of the caller's account (or its default, made on first use),
 * unseal its credentials and open a backend that lives until the request ends.
 */
#include "storage_int.h"

#include <stdlib.h>
#include <string.h>

struct pn_storage {
    const char *id;
    const char *provider;
    st_backend_t *b;
};

bool
storage_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

bool
storage_root_allowed(const char *root, const char *account_id)
{
    if (root == NULL || account_id == NULL || !storage_is_uuid(account_id))
        return false;
    for (int i = 0; i < storage_settings.nroots; i++) {
        const char *base = storage_settings.roots[i];
        size_t n = strlen(base);
        if (n == 1) /* "/" */
            n = 0;
        if (strncmp(root, base, n) != 0 || root[n] != '/' ||
            strncmp(root + n + 1, account_id, 36) != 0)
            continue;
        char end = root[n + 1 + 36];
        if (end == '\0' || end == '/')
            return true;
    }
    return false;
}

char *
storage_aad(pn_req_t *req, const char *id, const char *account_id)
{
    return pn_req_printf(req, "powernode.storage.credentials:%s:%s", id, account_id);
}

int
storage_fail(pn_req_t *req, const char *op, const st_err_t *e)
{
    if (e->passthrough)
        return e->code; /* the caller's own source or sink said why */
    if (e->code == PN_E_INTERNAL || e->code == PN_E_UNAVAILABLE || e->code == PN_E_TIMEOUT)
        PN_WARN("storage op=%s rc=%d error=\"%s\"", op, e->code, e->msg);
    return pn_fail(req, e->code, "%s", e->msg);
}

int
storage_default_ensure(pn_req_t *req)
{
    const char *account = pn_host_->req_account_id(req);
    char id[37];

    if (account == NULL)
        return pn_fail(req, PN_E_NOTFOUND, "storage not found");
    pn_host_->uuid_v7(id);
    const char *root = pn_req_printf(req, "%s/%s", storage_settings.local_root, account);
    /* One statement, no transaction of our own (the caller may be inside one): the partial
     * unique index on the default makes a concurrent second insert do nothing. */
    return pn_db_query(req, NULL,
                       "INSERT INTO file_storages (id, account_id, name, provider_type, "
                       "configuration, is_default) "
                       "SELECT $1, $2, 'Default local storage', 'local', "
                       "jsonb_build_object('root', $3::text), true "
                       "WHERE NOT EXISTS (SELECT 1 FROM file_storages WHERE account_id = $2 "
                       "AND is_default) ON CONFLICT DO NOTHING",
                       id, account, root);
}

static int
row_from(pn_req_t *req, pn_rows_t *rows, storage_row_t **out)
{
    json_t *list = pn_host_->req_keep_json(req, pn_host_->rows_json(rows));
    return storage_row_from_json(req, json_array_get(list, 0), out);
}

int
storage_row_from_json(pn_req_t *req, json_t *o, storage_row_t **out)
{
    storage_row_t *r = pn_req_alloc(req, sizeof *r);

    if (o == NULL || r == NULL)
        return pn_fail(req, PN_E_INTERNAL, "cannot read a storage row");
    memset(r, 0, sizeof *r);
    r->row = o;
    r->id = json_string_value(json_object_get(o, "id"));
    r->account_id = json_string_value(json_object_get(o, "account_id"));
    r->name = json_string_value(json_object_get(o, "name"));
    r->provider_type = json_string_value(json_object_get(o, "provider_type"));
    r->is_default = json_is_true(json_object_get(o, "is_default"));
    r->used_bytes = (long long)json_integer_value(json_object_get(o, "used_bytes"));
    json_t *conf = json_object_get(o, "configuration");
    r->sealed = json_object_get(conf, "credentials");
    /* The public part: the configuration without its sealed member. */
    r->pub = pn_host_->req_keep_json(req, json_deep_copy(conf ? conf : json_object()));
    if (r->pub == NULL || r->id == NULL || r->provider_type == NULL)
        return pn_fail(req, PN_E_INTERNAL, "cannot read a storage row");
    json_object_del(r->pub, "credentials");
    *out = r;
    return PN_OK;
}

int
storage_row_load(pn_req_t *req, const char *id, storage_row_t **out)
{
    const char *account = pn_host_->req_account_id(req);
    pn_rows_t *rows;
    int rc;

    *out = NULL;
    if (id != NULL && !storage_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "storage not found");
    if (id == NULL) {
        if (account == NULL)
            return pn_fail(req, PN_E_NOTFOUND, "storage not found");
        for (int attempt = 0; attempt < 2; attempt++) {
            rc = pn_db_query(req, &rows,
                             "SELECT " ROW_COLUMNS " FROM file_storages "
                             "WHERE account_id = $1 AND is_default",
                             account);
            if (rc != PN_OK)
                return rc;
            if (pn_rows_count(rows) > 0)
                return row_from(req, rows, out);
            if (attempt == 0 && (rc = storage_default_ensure(req)) != PN_OK)
                return rc;
        }
        return pn_fail(req, PN_E_NOTFOUND, "this account has no default storage");
    }
    return storage_row_load_in(req, account, id, out);
}

int
storage_row_load_in(pn_req_t *req, const char *account, const char *id, storage_row_t **out)
{
    pn_rows_t *rows;
    int rc;

    *out = NULL;
    if (!storage_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "storage not found");
    rc = pn_db_query(req, &rows,
                     "SELECT " ROW_COLUMNS " FROM file_storages "
                     "WHERE id = $1 AND ($2::uuid IS NULL OR account_id = $2)",
                     id, account);
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "storage not found");
    return row_from(req, rows, out);
}

int
storage_row_secrets(pn_req_t *req, const storage_row_t *row, json_t **secret, st_err_t *err)
{
    *secret = NULL;
    if (row->sealed == NULL) {
        if (st_conf_has_secrets(row->provider_type))
            return st_fail(err, PN_E_INTERNAL, "storage has no stored credentials");
        return PN_OK;
    }
    json_t *s = st_unseal(&storage_settings.master, row->sealed,
                          storage_aad(req, row->id, row->account_id), err);
    if (s == NULL)
        return err->code;
    *secret = pn_host_->req_keep_json(req, s);
    return PN_OK;
}

static void
backend_free(void *b)
{
    st_backend_free(b);
}

int
storage_backend_open(pn_req_t *req, const storage_row_t *row, st_backend_t **out, st_err_t *err)
{
    json_t *secret;
    int rc;

    *out = NULL;
    if ((rc = storage_row_secrets(req, row, &secret, err)) != PN_OK)
        return rc;
    if (strcmp(row->provider_type, "local") == 0) {
        const char *root = json_string_value(json_object_get(row->pub, "root"));
        if (root == NULL || !storage_root_allowed(root, row->account_id))
            return st_fail(err, PN_E_INTERNAL,
                           "local storage root is outside the allowed roots (plugins.storage)");
    }
    if ((rc = st_backend_new(row->provider_type, row->pub, secret, &storage_settings.opts, out,
                             err)) != PN_OK)
        return rc;
    if (pn_req_defer(req, backend_free, *out) != PN_OK) {
        st_backend_free(*out);
        *out = NULL;
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    }
    return PN_OK;
}

/* ---- the service ---- */

static int
svc_open(pn_req_t *req, const char *storage_id, pn_storage_t **out)
{
    storage_row_t *row;
    st_err_t e = {0};
    int rc;

    *out = NULL;
    if ((rc = storage_row_load(req, storage_id, &row)) != PN_OK)
        return rc;
    pn_storage_t *s = pn_req_alloc(req, sizeof *s);
    if (s == NULL)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    /* The load sets row whenever it returns PN_OK; the analyzer assumes pn_fail (the
     * host's vfail behind pn_host_, which returns a negative code) might return PN_OK. */
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    s->id = row->id;
    s->provider = row->provider_type;
    if (storage_backend_open(req, row, &s->b, &e) != PN_OK)
        return storage_fail(req, "open", &e);
    *out = s;
    return PN_OK;
}

static const char *
svc_storage_id(const pn_storage_t *s)
{
    return s->id;
}

static const char *
svc_provider(const pn_storage_t *s)
{
    return s->provider;
}

static int
svc_put(pn_req_t *req, pn_storage_t *s, const char *key, pn_storage_source_fn src, void *ud,
        uint64_t size_hint, const char *content_type)
{
    st_err_t e = {0};
    int rc = st_put(s->b, key, src, ud, size_hint, content_type, &e);
    return rc == PN_OK ? PN_OK : storage_fail(req, "put", &e);
}

static int
svc_get(pn_req_t *req, pn_storage_t *s, const char *key, uint64_t offset, uint64_t length,
        pn_storage_sink_fn sink, void *ud)
{
    st_err_t e = {0};
    int rc = st_get(s->b, key, offset, length, sink, ud, &e);
    return rc == PN_OK ? PN_OK : storage_fail(req, "get", &e);
}

static int
svc_open_fd(pn_req_t *req, pn_storage_t *s, const char *key, int *fd, uint64_t *size)
{
    st_err_t e = {0};
    int rc = st_open_fd(s->b, key, fd, size, &e);
    return rc == PN_OK ? PN_OK : storage_fail(req, "open_fd", &e);
}

static int
svc_write_at(pn_req_t *req, pn_storage_t *s, const char *key, uint64_t offset, const void *buf,
             size_t len, bool sync)
{
    st_err_t e = {0};
    int rc = st_write_at(s->b, key, offset, buf, len, sync, &e);
    return rc == PN_OK ? PN_OK : storage_fail(req, "write_at", &e);
}

static int
svc_publish(pn_req_t *req, pn_storage_t *s, const char *from, const char *to,
            const char *content_type)
{
    st_err_t e = {0};
    int rc = st_publish(s->b, from, to, content_type, &e);
    return rc == PN_OK ? PN_OK : storage_fail(req, "publish", &e);
}

static int
svc_remove(pn_req_t *req, pn_storage_t *s, const char *key)
{
    st_err_t e = {0};
    int rc = st_remove(s->b, key, &e);
    return rc == PN_OK ? PN_OK : storage_fail(req, "remove", &e);
}

static int
svc_stat(pn_req_t *req, pn_storage_t *s, const char *key, pn_storage_info_t *info)
{
    st_err_t e = {0};
    int rc = st_stat(s->b, key, info, &e);
    return rc == PN_OK ? PN_OK : storage_fail(req, "stat", &e);
}

static int
svc_presign(pn_req_t *req, pn_storage_t *s, const char *key, pn_method_t method, int ttl_s,
            char **url)
{
    st_err_t e = {0};
    char *u;

    *url = NULL;
    int rc = st_presign(s->b, key, method, ttl_s, &u, &e);
    if (rc != PN_OK)
        return storage_fail(req, "presign", &e);
    *url = pn_host_->req_strdup(req, u);
    free(u);
    return *url ? PN_OK : pn_fail(req, PN_E_INTERNAL, "out of memory");
}

static int
svc_health(pn_req_t *req, pn_storage_t *s)
{
    st_err_t e = {0};
    int rc = st_health(s->b, &e);
    return rc == PN_OK ? PN_OK : storage_fail(req, "health", &e);
}

const pn_storage_vt_t storage_vt = {
    .size = sizeof(pn_storage_vt_t),
    .open = svc_open,
    .storage_id = svc_storage_id,
    .provider = svc_provider,
    .put = svc_put,
    .get = svc_get,
    .open_fd = svc_open_fd,
    .remove = svc_remove,
    .stat = svc_stat,
    .presign = svc_presign,
    .health = svc_health,
    .write_at = svc_write_at,
    .publish = svc_publish,
};
