/*
 * Files as records: list with filters, sort and pages; show; update metadata; soft delete,
 * restore and permanent delete; the trash; stats; versions list and restore; tags. Every
 * query is scoped to the caller's account, so another account's ids answer 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "files_names.h"

#define DB pn_host_
#define MAXP 24

typedef struct {
    const char *params[MAXP];
    int n;
    char *where;
} q_t;

static const char *
add_param(pn_req_t *req, q_t *q, const char *v)
{
    q->params[q->n++] = v;
    return pn_req_printf(req, "$%d", q->n);
}

/* where += " AND <before>$n<after>" with v as parameter n */
static void
add_where(pn_req_t *req, q_t *q, const char *before, const char *v, const char *after)
{
    const char *p = add_param(req, q, v);
    q->where = pn_req_printf(req, "%s AND %s%s%s", q->where, before, p, after);
}

static bool
all_digits(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int
bad(pn_req_t *req, const char *field, const char *msg)
{
    pn_fail_field(req, field, "%s", msg);
    return pn_fail(req, PN_E_INVALID, "invalid query parameter %s", field);
}

/* ILIKE pattern matching s literally inside. */
static char *
like_pattern(pn_req_t *req, const char *s)
{
    size_t n = strlen(s);
    char *out = pn_req_alloc(req, 2 * n + 3), *o = out;

    if (out == NULL)
        return NULL;
    *o++ = '%';
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

static int
list(pn_req_t *req, bool trash)
{
    const char *account = NULL;
    int src = files_scope_account(req, false, &account);
    q_t q = {.n = 0};
    const char *v;
    long page = 1, per = 25;
    pn_rows_t *rows;
    int rc;

    if (src != PN_OK)
        return src;
    q.where = pn_req_printf(req, "f.account_id = %s AND f.deleted_at IS %s",
                            add_param(req, &q, account), trash ? "NOT NULL" : "NULL");
    if (!(v = pn_req_query(req, "include_derivatives")) || strcmp(v, "true") != 0)
        q.where = pn_req_printf(req, "%s AND f.parent_file_id IS NULL", q.where);
    if ((v = pn_req_query(req, "category")))
        add_where(req, &q, "f.category = ", v, "");
    if ((v = pn_req_query(req, "visibility")))
        add_where(req, &q, "f.visibility = ", v, "");
    if ((v = pn_req_query(req, "file_type")))
        add_where(req, &q, "f.file_type = ", v, "");
    if ((v = pn_req_query(req, "parent_id"))) {
        if (!files_is_uuid(v))
            return bad(req, "parent_id", "must be a uuid");
        add_where(req, &q, "f.parent_file_id = ", v, "::uuid");
    }
    if ((v = pn_req_query(req, "storage_id"))) {
        if (!files_is_uuid(v))
            return bad(req, "storage_id", "must be a uuid");
        add_where(req, &q, "f.storage_id = ", v, "::uuid");
    }
    if ((v = pn_req_query(req, "q")) || (v = pn_req_query(req, "search"))) {
        if (strlen(v) > 255)
            return bad(req, "q", "at most 255 bytes");
        add_where(req, &q, "f.filename ILIKE ", like_pattern(req, v), "");
    }
    if ((v = pn_req_query(req, "tag")) || (v = pn_req_query(req, "tags"))) {
        /* any of a comma list of names */
        add_where(req, &q,
                  "EXISTS (SELECT 1 FROM file_object_tags ot JOIN file_tags t ON t.id = "
                  "ot.file_tag_id WHERE ot.file_object_id = f.id AND t.name = ANY "
                  "(string_to_array(lower(",
                  v, "), ',')))");
    }
    if ((v = pn_req_query(req, "created_from")))
        add_where(req, &q, "f.created_at >= ", v, "::timestamptz");
    if ((v = pn_req_query(req, "created_to")))
        add_where(req, &q, "f.created_at <= ", v, "::timestamptz");
    if ((v = pn_req_query(req, "size_min"))) {
        if (!all_digits(v))
            return bad(req, "size_min", "a number of bytes");
        add_where(req, &q, "f.file_size >= ", v, "::bigint");
    }
    if ((v = pn_req_query(req, "size_max"))) {
        if (!all_digits(v))
            return bad(req, "size_max", "a number of bytes");
        add_where(req, &q, "f.file_size <= ", v, "::bigint");
    }
    const char *sort = pn_req_query(req, "sort");
    const char *order = pn_req_query(req, "order");
    static const char *const sorts[] = {"created_at", "updated_at", "filename",
                                        "file_size",  "deleted_at", NULL};
    bool sort_ok = sort == NULL;
    for (const char *const *s = sorts; sort && *s; s++)
        sort_ok = sort_ok || strcmp(sort, *s) == 0;
    if (!sort_ok)
        return bad(req, "sort", "created_at, updated_at, filename, file_size or deleted_at");
    if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
        return bad(req, "order", "asc or desc");
    if ((v = pn_req_query(req, "page"))) {
        if (!all_digits(v) || (page = atol(v)) < 1 || page > 1000000)
            return bad(req, "page", "1 or more");
    }
    if ((v = pn_req_query(req, "per_page"))) {
        if (!all_digits(v) || (per = atol(v)) < 1 || per > 100)
            return bad(req, "per_page", "1 to 100");
    }
    /* The sort column comes from the fixed list above, never from input text. */
    const char *col = sort ? sort : (trash ? "deleted_at" : "created_at");
    const char *dir = order ? order : (sort && strcmp(sort, "filename") == 0 ? "asc" : "desc");
    char *count_sql = pn_req_printf(req, "SELECT count(*) FROM file_objects f WHERE %s", q.where);
    if ((rc = DB->db_query(req, count_sql, q.n, q.params, &rows)) != PN_OK)
        return rc;
    long long total = atoll(pn_rows_value(rows, 0, 0));
    char lim[16], off[24];
    (void)snprintf(lim, sizeof lim, "%ld", per);
    (void)snprintf(off, sizeof off, "%lld", (long long)(page - 1) * per);
    const char *pl = add_param(req, &q, lim);
    const char *po = add_param(req, &q, off);
    char *sql = pn_req_printf(req,
                              "SELECT %s FROM file_objects f WHERE %s ORDER BY f.%s %s, f.id %s "
                              "LIMIT %s::integer OFFSET %s::bigint",
                              files_summary_cols, q.where, col, dir, dir, pl, po);
    if ((rc = DB->db_query(req, sql, q.n, q.params, &rows)) != PN_OK)
        return rc;
    json_t *files = DB->rows_json(rows);
    return pn_reply_ok(req, json_pack("{s:o, s:{s:I, s:I, s:I, s:I}}", "files", files, "pagination",
                                      "current_page", (json_int_t)page, "per_page", (json_int_t)per,
                                      "total_pages", (json_int_t)((total + per - 1) / per),
                                      "total_count", (json_int_t)total));
}

int
files_h_list(pn_req_t *req)
{
    return list(req, false);
}

int
files_h_trash(pn_req_t *req)
{
    return list(req, true);
}

int
files_h_show(pn_req_t *req)
{
    const char *account = NULL;
    int src = files_scope_account(req, false, &account);
    const char *id = pn_req_param(req, "id");
    json_t *f;
    pn_rows_t *rows;

    if (src != PN_OK)
        return src;
    if ((f = files_file_get(req, account, id, pn_req_query(req, "include_deleted") != NULL)) ==
        NULL)
        return PN_E_NOTFOUND;
    int rc = pn_db_query(req, &rows,
                         "SELECT id, version_number, file_size, content_type, checksum_sha256, "
                         "change_description, created_by_id, created_at FROM file_versions "
                         "WHERE file_object_id = $1 AND account_id = $2 ORDER BY version_number",
                         id, account);
    if (rc != PN_OK) {
        json_decref(f);
        return rc;
    }
    json_object_set_new(f, "versions", DB->rows_json(rows));
    json_object_set_new(f, "urls",
                        json_pack("{s:s, s:s}", "download",
                                  pn_req_printf(req, "/api/v1/files/%s/download", id), "signed",
                                  pn_req_printf(req, "/api/v1/files/%s/signed_url", id)));
    return pn_reply_ok(req, f);
}

int
files_h_update(pn_req_t *req)
{
    const char *account = DB->req_account_id(req);
    const char *id = pn_req_param(req, "id");
    json_t *body = pn_req_json(req);
    char name[FILES_NAME_MAX + 1];
    const char *filename = files_str(body, "filename");
    char *meta = NULL;
    pn_rows_t *rows;

    if (!files_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "file not found");
    if (filename)
        files_clean_filename(filename, strlen(filename), name);
    if (json_object_get(body, "metadata")) {
        char *m = json_dumps(json_object_get(body, "metadata"), JSON_COMPACT);
        meta = m ? DB->req_strdup(req, m) : NULL;
        free(m);
        if (meta && strlen(meta) > 16384) {
            pn_fail_field(req, "metadata", "at most 16 KiB");
            return pn_fail(req, PN_E_INVALID, "metadata too large");
        }
    }
    int rc =
        pn_db_query(req, &rows,
                    "UPDATE file_objects SET filename = COALESCE($3, filename), "
                    "description = COALESCE($4, description), "
                    "visibility = COALESCE($5, visibility), category = COALESCE($6, category), "
                    "metadata = COALESCE($7::jsonb, metadata), updated_at = now() "
                    "WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL RETURNING id",
                    id, account, filename ? name : NULL, files_str(body, "description"),
                    files_str(body, "visibility"), files_str(body, "category"), meta);
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "file not found");
    json_t *f = files_file_get(req, account, id, false);
    return f ? pn_reply_ok(req, f) : PN_E_NOTFOUND;
}

int
files_h_delete(pn_req_t *req)
{
    const char *account = NULL;
    int src = files_scope_account(req, true, &account);
    const char *id = pn_req_param(req, "id");
    const char *perm = pn_req_query(req, "permanent");
    bool permanent = perm && strcmp(perm, "true") == 0;
    pn_rows_t *rows;
    int rc, removed;

    if (src != PN_OK)
        return src;
    /* Blobs are removed through the caller's own storages; another account's files go to
     * its trash and its sweeper. */
    if (permanent && strcmp(account, DB->req_account_id(req)) != 0) {
        pn_fail_field(req, "permanent", "another account's files can only be moved to the trash");
        return pn_fail(req, PN_E_INVALID, "invalid query parameter permanent");
    }
    if (!files_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "file not found");
    if (!permanent) {
        rc = pn_db_query(req, &rows,
                         "UPDATE file_objects SET deleted_at = now(), deleted_by_id = $3, "
                         "updated_at = now() WHERE id = $1 AND account_id = $2 "
                         "AND deleted_at IS NULL RETURNING id",
                         id, account, DB->req_user_id(req));
        if (rc != PN_OK)
            return rc;
        if (pn_rows_count(rows) == 0)
            return pn_fail(req, PN_E_NOTFOUND, "file not found");
    } else {
        if ((rc = DB->db_begin(req)) != PN_OK)
            return rc;
        rc = pn_db_query(req, &rows,
                         "SELECT id FROM file_objects WHERE id = $1 AND account_id = $2 FOR UPDATE",
                         id, account);
        if (rc == PN_OK && pn_rows_count(rows) == 0)
            rc = pn_fail(req, PN_E_NOTFOUND, "file not found");
        if (rc == PN_OK)
            rc = files_purge_in_tx(req, account, id);
        if (rc != PN_OK) {
            DB->db_rollback(req);
            return rc;
        }
        if ((rc = DB->db_commit(req)) != PN_OK)
            return rc;
        files_blob_drain(req, account, 200, &removed);
    }
    DB->event_publish(req, FILES_CHANNEL, permanent ? "file.purged" : "file.deleted",
                      json_pack("{s:s}", "id", id));
    return pn_reply_ok(req, json_pack("{s:b, s:b}", "deleted", 1, "permanent", permanent));
}

int
files_h_restore(pn_req_t *req)
{
    const char *account = NULL;
    int src = files_scope_account(req, true, &account);
    const char *id = pn_req_param(req, "id");
    pn_rows_t *rows;

    if (src != PN_OK)
        return src;
    if (!files_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "file not found");
    int rc = pn_db_query(req, &rows,
                         "UPDATE file_objects SET deleted_at = NULL, deleted_by_id = NULL, "
                         "updated_at = now() WHERE id = $1 AND account_id = $2 "
                         "AND deleted_at IS NOT NULL RETURNING id",
                         id, account);
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0) {
        json_t *f = files_file_get(req, account, id, false);
        if (f == NULL)
            return PN_E_NOTFOUND;
        json_decref(f);
        return pn_fail(req, PN_E_CONFLICT, "the file is not in the trash");
    }
    DB->event_publish(req, FILES_CHANNEL, "file.restored", json_pack("{s:s}", "id", id));
    json_t *f = files_file_get(req, account, id, false);
    return f ? pn_reply_ok(req, f) : PN_E_NOTFOUND;
}

int
files_h_trash_empty(pn_req_t *req)
{
    const char *account = DB->req_account_id(req);
    pn_rows_t *rows;
    int rc, removed = 0;

    if ((rc = DB->db_begin(req)) != PN_OK)
        return rc;
    rc = pn_db_query(req, &rows,
                     "SELECT id FROM file_objects WHERE account_id = $1 AND deleted_at IS NOT NULL "
                     "ORDER BY deleted_at LIMIT 500 FOR UPDATE",
                     account);
    int n = rc == PN_OK ? pn_rows_count(rows) : 0;
    for (int i = 0; rc == PN_OK && i < n; i++)
        rc = files_purge_in_tx(req, account, pn_rows_value(rows, i, 0));
    if (rc != PN_OK) {
        DB->db_rollback(req);
        return rc;
    }
    if ((rc = DB->db_commit(req)) != PN_OK)
        return rc;
    files_blob_drain(req, account, 1000, &removed);
    return pn_reply_ok(req, json_pack("{s:i, s:b}", "purged", n, "more", n == 500));
}

int
files_h_stats(pn_req_t *req)
{
    const char *account = NULL;
    int src = files_scope_account(req, false, &account);
    pn_rows_t *rows;

    if (src != PN_OK)
        return src;
    int rc = pn_db_query(
        req, &rows,
        "SELECT (SELECT count(*) FROM file_objects WHERE account_id = $1 AND deleted_at IS NULL) "
        "AS total_files, "
        "(SELECT COALESCE(sum(file_size), 0)::bigint FROM file_objects WHERE account_id = $1 "
        "AND deleted_at IS NULL) AS total_size, "
        "(SELECT COALESCE(jsonb_object_agg(category, n), '{}') FROM (SELECT category, count(*) n "
        "FROM file_objects WHERE account_id = $1 AND deleted_at IS NULL GROUP BY category) c) "
        "AS by_category, "
        "(SELECT COALESCE(jsonb_object_agg(file_type, n), '{}') FROM (SELECT file_type, count(*) n "
        "FROM file_objects WHERE account_id = $1 AND deleted_at IS NULL GROUP BY file_type) t) "
        "AS by_type, "
        "COALESCE((SELECT used_bytes FROM files_account_usage WHERE account_id = $1), 0) "
        "AS used_bytes, NULLIF($2::bigint, 0) AS quota_bytes",
        account, pn_req_printf(req, "%lld", (long long)files_cfg.account_quota_bytes));
    if (rc != PN_OK)
        return rc;
    json_t *s = files_row0(req, rows);
    return s ? pn_reply_ok(req, s) : pn_fail(req, PN_E_INTERNAL, "no stats row");
}

/* ---- versions ---- */

int
files_h_versions(pn_req_t *req)
{
    const char *account = NULL;
    int src = files_scope_account(req, false, &account);
    const char *id = pn_req_param(req, "id");
    json_t *f = src == PN_OK ? files_file_get(req, account, id, false) : NULL;
    pn_rows_t *rows;

    if (src != PN_OK)
        return src;
    if (f == NULL)
        return PN_E_NOTFOUND;
    json_decref(f);
    int rc =
        pn_db_query(req, &rows,
                    "SELECT v.id, v.version_number, v.file_size, v.content_type, "
                    "v.checksum_sha256, v.change_description, v.created_by_id, v.created_at, "
                    "(v.id = f.current_version_id) AS is_current FROM file_versions v "
                    "JOIN file_objects f ON f.id = v.file_object_id WHERE v.file_object_id = $1 "
                    "AND v.account_id = $2 ORDER BY v.version_number DESC",
                    id, account);
    return rc == PN_OK ? pn_reply_ok(req, DB->rows_json(rows)) : rc;
}

int
files_h_version_restore(pn_req_t *req)
{
    const char *account = DB->req_account_id(req);
    const char *id = pn_req_param(req, "id"), *vid = pn_req_param(req, "version_id");
    pn_rows_t *rows;

    if (!files_is_uuid(id) || !files_is_uuid(vid))
        return pn_fail(req, PN_E_NOTFOUND, "version not found");
    /* Restoring points the file at the old version: no bytes are copied, nothing is counted
     * twice, and the newer versions stay listed. */
    int rc = pn_db_query(req, &rows,
                         "UPDATE file_objects f SET current_version_id = v.id, "
                         "version = v.version_number, file_size = v.file_size, "
                         "content_type = v.content_type, checksum_sha256 = v.checksum_sha256, "
                         "storage_id = v.storage_id, updated_at = now() FROM file_versions v "
                         "WHERE f.id = $1 AND f.account_id = $2 AND f.deleted_at IS NULL "
                         "AND v.id = $3 AND v.file_object_id = f.id RETURNING f.id",
                         id, account, vid);
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "version not found");
    DB->event_publish(req, FILES_CHANNEL, "file.version_restored",
                      json_pack("{s:s, s:s}", "id", id, "version_id", vid));
    json_t *f = files_file_get(req, account, id, false);
    return f ? pn_reply_ok(req, f) : PN_E_NOTFOUND;
}

/* ---- tags ---- */

int
files_h_tags_list(pn_req_t *req)
{
    const char *account = NULL;
    int src = files_scope_account(req, false, &account);
    pn_rows_t *rows;

    if (src != PN_OK)
        return src;
    int rc = pn_db_query(req, &rows,
                         "SELECT t.id, t.name, t.color, t.description, t.created_at, "
                         "(SELECT count(*) FROM file_object_tags ot JOIN file_objects f ON "
                         "f.id = ot.file_object_id WHERE ot.file_tag_id = t.id "
                         "AND f.deleted_at IS NULL) AS files_count "
                         "FROM file_tags t WHERE t.account_id = $1 ORDER BY t.name",
                         account);
    return rc == PN_OK ? pn_reply_ok(req, DB->rows_json(rows)) : rc;
}

static int
tag_names(pn_req_t *req, json_t **out)
{
    json_t *in = json_object_get(pn_req_json(req), "tags");
    json_t *list = DB->req_keep_json(req, json_array());
    char name[101];
    size_t i;
    json_t *t;

    *out = list;
    json_array_foreach(in, i, t)
    {
        if (files_tag_name(json_string_value(t), name) != 0) {
            pn_fail_field(req, "tags", "names of 1 to 100 characters without commas");
            return pn_fail(req, PN_E_INVALID, "invalid tag name");
        }
        json_array_append_new(list, json_string(name));
    }
    return PN_OK;
}

static int
tags_change(pn_req_t *req, bool add)
{
    const char *account = DB->req_account_id(req);
    const char *id = pn_req_param(req, "id");
    json_t *names, *t;
    size_t i;
    int rc;
    json_t *f = files_file_get(req, account, id, false);

    if (f == NULL)
        return PN_E_NOTFOUND;
    json_decref(f);
    if ((rc = tag_names(req, &names)) != PN_OK)
        return rc;
    json_array_foreach(names, i, t)
    {
        const char *name = json_string_value(t);
        if (add) {
            char tid[37];
            DB->uuid_v7(tid);
            rc = pn_db_query(req, NULL,
                             "INSERT INTO file_tags (id, account_id, name) VALUES ($1, $2, $3) "
                             "ON CONFLICT (account_id, name) DO NOTHING",
                             tid, account, name);
            if (rc == PN_OK)
                rc = pn_db_query(req, NULL,
                                 "INSERT INTO file_object_tags (account_id, file_object_id, "
                                 "file_tag_id) SELECT $1, $2, id FROM file_tags WHERE "
                                 "account_id = $1 AND name = $3 ON CONFLICT DO NOTHING",
                                 account, id, name);
        } else {
            rc = pn_db_query(req, NULL,
                             "DELETE FROM file_object_tags ot USING file_tags t WHERE "
                             "t.id = ot.file_tag_id AND ot.file_object_id = $1 AND "
                             "ot.account_id = $2 AND t.name = $3",
                             id, account, name);
        }
        if (rc != PN_OK)
            return rc;
    }
    f = files_file_get(req, account, id, false);
    return f ? pn_reply_ok(req, f) : PN_E_NOTFOUND;
}

int
files_h_tags_add(pn_req_t *req)
{
    return tags_change(req, true);
}

int
files_h_tags_remove(pn_req_t *req)
{
    return tags_change(req, false);
}
