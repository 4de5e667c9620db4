/*
 * Reservations, commits and blob bookkeeping: the part of the plugin that keeps rows, blobs
 * and quota counters in agreement. The order is always reserve (commit) -> write blob ->
 * commit rows, and every failure after the reservation gives the bytes back and removes the
 * blob, so no row exists without its blob and no counted byte without a row or reservation.
 */
#include <stdio.h>
#include <string.h>

#include "files.h"
#include "files_crypto.h"
#include "files_names.h"
#include "files_sniff.h"

#define DB pn_host_

static int
rollback_rc(pn_req_t *req, int rc)
{
    DB->db_rollback(req);
    return rc;
}

/* The storage plugin's table holds the per-storage quota; it is updated only through these
 * conditional statements so concurrent writers cannot pass the quota together. */
static const char storage_reserve_sql[] =
    "UPDATE file_storages SET used_bytes = used_bytes + $2::bigint "
    "WHERE id = $1 AND account_id = $3 "
    "AND (quota_bytes IS NULL OR used_bytes + $2::bigint <= quota_bytes) RETURNING id";
static const char storage_release_sql[] =
    "UPDATE file_storages SET used_bytes = GREATEST(used_bytes - $2::bigint, 0) "
    "WHERE id = $1 AND account_id = $3";
static const char account_release_sql[] =
    "UPDATE files_account_usage SET used_bytes = GREATEST(used_bytes - $2::bigint, 0), "
    "updated_at = now() WHERE account_id = $1";

int
files_reserve(pn_req_t *req, const files_write_t *w)
{
    char size[24], quota[24], expires[24];
    pn_rows_t *rows;
    int rc;
    char *opts = w->options ? json_dumps(w->options, JSON_COMPACT) : NULL;
    const char *optstr = opts ? DB->req_strdup(req, opts) : "{}";

    free(opts);
    (void)snprintf(size, sizeof size, "%llu", (unsigned long long)w->size);
    (void)snprintf(quota, sizeof quota, "%lld", (long long)files_cfg.account_quota_bytes);
    (void)snprintf(expires, sizeof expires, "%lld", (long long)w->expires_in_s);
    if ((rc = DB->db_begin(req)) != PN_OK)
        return rc;
    rc = pn_db_query(req, NULL,
                     "INSERT INTO file_uploads (id, account_id, user_id, storage_id, kind, "
                     "upload_length, storage_key, file_id, version_id, target_file_id, options, "
                     "expires_at) VALUES ($1, $2, $3, $4, $5, $6::bigint, $7, $8, $9, $10, "
                     "$11::jsonb, now() + make_interval(secs => $12::bigint))",
                     w->upload_id, w->account_id, w->user_id, w->storage_id, w->kind, size,
                     w->storage_key, w->file_id, w->version_id, w->target_file_id,
                     optstr ? optstr : "{}", expires);
    if (rc != PN_OK)
        return rollback_rc(req, rc);
    rc = pn_db_query(req, NULL,
                     "INSERT INTO files_account_usage (account_id) VALUES ($1) "
                     "ON CONFLICT (account_id) DO NOTHING",
                     w->account_id);
    if (rc != PN_OK)
        return rollback_rc(req, rc);
    rc = pn_db_query(req, &rows,
                     "UPDATE files_account_usage SET used_bytes = used_bytes + $2::bigint, "
                     "updated_at = now() WHERE account_id = $1 "
                     "AND ($3::bigint = 0 OR used_bytes + $2::bigint <= $3::bigint) "
                     "RETURNING used_bytes",
                     w->account_id, size, quota);
    if (rc != PN_OK)
        return rollback_rc(req, rc);
    if (pn_rows_count(rows) == 0) {
        DB->db_rollback(req);
        pn_fail_field(req, "file", "the account's storage quota of %lld bytes would be exceeded",
                      (long long)files_cfg.account_quota_bytes);
        return pn_fail(req, PN_E_INVALID, "account storage quota exceeded");
    }
    rc = pn_db_query(req, &rows, storage_reserve_sql, w->storage_id, size, w->account_id);
    if (rc != PN_OK)
        return rollback_rc(req, rc);
    if (pn_rows_count(rows) == 0) {
        DB->db_rollback(req);
        pn_fail_field(req, "file", "the storage's quota would be exceeded");
        return pn_fail(req, PN_E_INVALID, "storage quota exceeded");
    }
    return DB->db_commit(req);
}

int
files_release(pn_req_t *req, const char *account_id, const char *upload_id)
{
    pn_rows_t *rows;
    int rc;

    if ((rc = DB->db_begin(req)) != PN_OK)
        goto out;
    rc = pn_db_query(req, &rows,
                     "DELETE FROM file_uploads WHERE id = $1 AND account_id = $2 "
                     "RETURNING storage_id, upload_length",
                     upload_id, account_id);
    if (rc == PN_OK && pn_rows_count(rows) == 1) {
        const char *sid = pn_rows_value(rows, 0, 0), *len = pn_rows_value(rows, 0, 1);
        rc = pn_db_query(req, NULL, account_release_sql, account_id, len);
        if (rc == PN_OK)
            rc = pn_db_query(req, NULL, storage_release_sql, sid, len, account_id);
    }
    rc = rc == PN_OK ? DB->db_commit(req) : rollback_rc(req, rc);
out:
    if (rc != PN_OK)
        PN_ERROR("reservation release failed upload=%s rc=%d (the sweeper retries when it expires)",
                 upload_id, rc);
    return rc;
}

/* ---- commit ---- */

typedef struct {
    const char *type, *cls;
} job_kind_t;

static int
add_job(pn_req_t *req, const files_write_t *w, const char *type, const char *cls,
        const char *params, json_t *jobs)
{
    char id[37];

    DB->uuid_v7(id);
    int rc =
        pn_db_query(req, NULL,
                    "INSERT INTO file_processing_jobs (id, account_id, file_object_id, "
                    "job_type, job_class, job_parameters) VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                    id, w->account_id, w->file_id, type, cls, params);
    if (rc == PN_OK)
        json_array_append_new(jobs, json_pack("{s:s, s:s}", "id", id, "class", cls));
    return rc;
}

/* Jobs for a new file or version: metadata for every file, a thumbnail for images, video and
 * audio processing by type. Derivatives and temp files get none. */
static int
add_jobs(pn_req_t *req, const files_write_t *w, const files_meta_t *m, json_t *jobs)
{
    const char *t = files_type_of(m->content_type);
    int rc;

    if (m->parent_file_id || (m->category && strcmp(m->category, "temp") == 0))
        return PN_OK;
    if ((rc = add_job(req, w, "metadata_extract", "MetadataExtractionJob", "{}", jobs)) != PN_OK)
        return rc;
    if (strcmp(t, "image") == 0)
        rc = add_job(req, w, "thumbnail", "ThumbnailGenerationJob",
                     "{\"sizes\":[\"small\",\"medium\",\"large\"]}", jobs);
    else if (strcmp(t, "video") == 0)
        rc = add_job(req, w, "video_processing", "VideoProcessingJob", "{}", jobs);
    else if (strcmp(t, "audio") == 0)
        rc = add_job(req, w, "audio_processing", "AudioProcessingJob", "{}", jobs);
    return rc;
}

static int
add_tags(pn_req_t *req, const char *account_id, const char *file_id, json_t *tags)
{
    size_t i;
    json_t *t;

    json_array_foreach(tags, i, t)
    {
        char id[37];
        DB->uuid_v7(id);
        int rc = pn_db_query(req, NULL,
                             "INSERT INTO file_tags (id, account_id, name) VALUES ($1, $2, $3) "
                             "ON CONFLICT (account_id, name) DO NOTHING",
                             id, account_id, json_string_value(t));
        if (rc == PN_OK)
            rc = pn_db_query(
                req, NULL,
                "INSERT INTO file_object_tags (account_id, file_object_id, file_tag_id) "
                "SELECT $1, $2, id FROM file_tags WHERE account_id = $1 AND name = $3 "
                "ON CONFLICT DO NOTHING",
                account_id, file_id, json_string_value(t));
        if (rc != PN_OK)
            return rc;
    }
    return PN_OK;
}

int
files_commit(pn_req_t *req, const files_write_t *w, const files_meta_t *m, json_t **jobs_out)
{
    char size[24];
    pn_rows_t *rows;
    int rc;
    json_t *jobs = json_array();
    const char *ftype = files_type_of(m->content_type);
    bool no_jobs = m->parent_file_id || (m->category && strcmp(m->category, "temp") == 0);

    *jobs_out = NULL;
    if (jobs == NULL)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    (void)snprintf(size, sizeof size, "%llu", (unsigned long long)w->size);
    if ((rc = DB->db_begin(req)) != PN_OK)
        goto fail;
    rc = pn_db_query(req, &rows,
                     "DELETE FROM file_uploads WHERE id = $1 AND account_id = $2 RETURNING id",
                     w->upload_id, w->account_id);
    if (rc != PN_OK)
        goto fail_tx;
    if (pn_rows_count(rows) == 0) {
        rc = pn_fail(req, PN_E_CONFLICT, "the upload expired before it was complete");
        goto fail_tx;
    }
    if (w->target_file_id) {
        rc = pn_db_query(req, &rows,
                         "SELECT id FROM file_objects WHERE id = $1 AND account_id = $2 "
                         "AND deleted_at IS NULL FOR UPDATE",
                         w->target_file_id, w->account_id);
        if (rc != PN_OK)
            goto fail_tx;
        if (pn_rows_count(rows) == 0) {
            rc = pn_fail(req, PN_E_NOTFOUND, "file not found");
            goto fail_tx;
        }
        rc = pn_db_query(req, &rows,
                         "INSERT INTO file_versions (id, account_id, file_object_id, "
                         "version_number, storage_id, storage_key, file_size, content_type, "
                         "checksum_sha256, change_description, created_by_id) "
                         "SELECT $1, $2, $3, COALESCE(max(version_number), 0) + 1, $4, $5, "
                         "$6::bigint, $7, $8, $9, $10 FROM file_versions WHERE file_object_id = $3 "
                         "RETURNING version_number",
                         w->version_id, w->account_id, w->target_file_id, w->storage_id,
                         w->storage_key, size, m->content_type, m->sha256,
                         m->change_description ? m->change_description : "", w->user_id);
        if (rc != PN_OK)
            goto fail_tx;
        rc = pn_db_query(req, NULL,
                         "UPDATE file_objects SET current_version_id = $1, version = $2::integer, "
                         "file_size = $3::bigint, content_type = $4, file_type = $5, "
                         "checksum_sha256 = $6, processing_status = $7, updated_at = now() "
                         "WHERE id = $8 AND account_id = $9",
                         w->version_id, pn_rows_value(rows, 0, 0), size, m->content_type, ftype,
                         m->sha256, no_jobs ? "completed" : "pending", w->target_file_id,
                         w->account_id);
        if (rc != PN_OK)
            goto fail_tx;
    } else {
        char *meta = m->metadata ? json_dumps(m->metadata, JSON_COMPACT) : NULL;
        const char *metas = meta ? DB->req_strdup(req, meta) : "{}";
        free(meta);
        rc =
            pn_db_query(req, NULL,
                        "INSERT INTO file_objects (id, account_id, storage_id, current_version_id, "
                        "filename, description, content_type, file_size, file_type, category, "
                        "visibility, checksum_sha256, parent_file_id, derivative_kind, "
                        "processing_status, metadata, uploaded_by_id) VALUES ($1, $2, $3, $4, $5, "
                        "$6, $7, $8::bigint, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17)",
                        w->file_id, w->account_id, w->storage_id, w->version_id, m->filename,
                        m->description ? m->description : "", m->content_type, size, ftype,
                        m->category ? m->category : "user_upload",
                        m->visibility ? m->visibility : "private", m->sha256, m->parent_file_id,
                        m->derivative_kind, no_jobs ? "completed" : "pending", metas, w->user_id);
        if (rc != PN_OK)
            goto fail_tx;
        rc = pn_db_query(req, NULL,
                         "INSERT INTO file_versions (id, account_id, file_object_id, "
                         "version_number, storage_id, storage_key, file_size, content_type, "
                         "checksum_sha256, change_description, created_by_id) VALUES ($1, $2, $3, "
                         "1, $4, $5, $6::bigint, $7, $8, $9, $10)",
                         w->version_id, w->account_id, w->file_id, w->storage_id, w->storage_key,
                         size, m->content_type, m->sha256,
                         m->change_description ? m->change_description : "", w->user_id);
        if (rc != PN_OK)
            goto fail_tx;
        if (m->tags && (rc = add_tags(req, w->account_id, w->file_id, m->tags)) != PN_OK)
            goto fail_tx;
    }
    if ((rc = add_jobs(req, w, m, jobs)) != PN_OK)
        goto fail_tx;
    if ((rc = DB->db_commit(req)) != PN_OK)
        goto fail;
    *jobs_out = jobs;
    return PN_OK;
fail_tx:
    DB->db_rollback(req);
fail:
    json_decref(jobs);
    return rc;
}

void
files_push_jobs(pn_req_t *req, json_t *jobs)
{
    size_t i;
    json_t *j;

    json_array_foreach(jobs, i, j)
    {
        const char *id = json_string_value(json_object_get(j, "id"));
        const char *cls = json_string_value(json_object_get(j, "class"));
        if (DB->job_enqueue(req, cls, FILES_QUEUE, json_pack("[s]", id), 0, NULL) != PN_OK) {
            PN_WARN("job push failed job=%s class=%s (the reconciler pushes it again)", id, cls);
            continue;
        }
        pn_db_query(req, NULL,
                    "UPDATE file_processing_jobs SET enqueued_at = now() WHERE id = $1 "
                    "AND status = 'pending'",
                    id);
    }
}

int
files_memsrc_read(void *ud, void *buf, size_t cap, size_t *got)
{
    files_memsrc_t *m = ud;
    size_t o = 0;

    while (o < cap && m->i < m->nsegs) {
        const files_seg_t *s = &m->segs[m->i];
        size_t n = s->n - m->off;
        if (n > cap - o)
            n = cap - o;
        memcpy((char *)buf + o, s->p + m->off, n);
        o += n;
        m->off += n;
        if (m->off == s->n) {
            m->i++;
            m->off = 0;
        }
    }
    *got = o;
    return PN_OK;
}

/* ---- the shared upload path ---- */

static void
sniff_segments(const files_seg_t *segs, size_t nsegs, uint64_t total, char *out, size_t cap)
{
    unsigned char head[FILES_SNIFF_LEN];
    size_t n = 0;

    for (size_t i = 0; i < nsegs && n < sizeof head; i++) {
        size_t k = segs[i].n < sizeof head - n ? segs[i].n : sizeof head - n;
        memcpy(head + n, segs[i].p, k);
        n += k;
    }
    (void)snprintf(out, cap, "%s", files_sniff(head, n, (uint64_t)n == total));
}

int
files_store_upload(pn_req_t *req, const files_upload_in_t *in)
{
    const char *account = in->account_id ? in->account_id : DB->req_account_id(req);
    char file_id[37], version_id[37], upload_id[37], sha[65], ctype[128];
    char name[FILES_NAME_MAX + 1];
    uint64_t total = 0;
    pn_storage_t *st;
    json_t *jobs = NULL;
    int rc;

    if (account == NULL)
        return pn_fail(req, PN_E_FORBIDDEN, "an account is required");
    for (size_t i = 0; i < in->nsegs; i++)
        total += in->segs[i].n;
    if ((int64_t)total > files_cfg.max_file_size)
        return pn_fail(req, PN_E_TOOLARGE, "the file is larger than %lld bytes",
                       (long long)files_cfg.max_file_size);
    files_clean_filename(in->filename, in->filename ? strlen(in->filename) : 0, name);
    sniff_segments(in->segs, in->nsegs, total, ctype, sizeof ctype);
    files_sha256_t *h = files_sha256_new();
    if (h == NULL)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < in->nsegs; i++)
        files_sha256_update(h, in->segs[i].p, in->segs[i].n);
    files_sha256_final(h, sha);

    const char *storage_id = in->storage_id;
    if (in->target_file_id) {
        pn_rows_t *rows;
        rc = pn_db_query(req, &rows,
                         "SELECT storage_id FROM file_objects WHERE id = $1 AND account_id = $2 "
                         "AND deleted_at IS NULL",
                         in->target_file_id, account);
        if (rc != PN_OK)
            return rc;
        if (pn_rows_count(rows) == 0)
            return pn_fail(req, PN_E_NOTFOUND, "file not found");
        storage_id = pn_rows_value(rows, 0, 0); /* versions stay on the file's storage */
    }
    if ((rc = files_st->open(req, storage_id, &st)) != PN_OK)
        return rc;
    DB->uuid_v7(upload_id);
    DB->uuid_v7(version_id);
    if (in->target_file_id)
        (void)snprintf(file_id, sizeof file_id, "%s", in->target_file_id);
    else
        DB->uuid_v7(file_id);
    files_write_t w = {
        .account_id = account,
        .user_id = DB->req_user_id(req),
        .upload_id = upload_id,
        .storage_id = files_st->storage_id(st),
        .storage_key = pn_req_printf(req, "acct/%s/files/%s/%s", account, file_id, version_id),
        .file_id = file_id,
        .version_id = version_id,
        .kind = "simple",
        .size = total,
        .expires_in_s = files_cfg.upload_expiry_s,
        .target_file_id = in->target_file_id,
    };
    files_meta_t m = {
        .filename = name,
        .content_type = ctype,
        .sha256 = sha,
        .category = in->category,
        .visibility = in->visibility,
        .description = in->description,
        .change_description = in->change_description,
        .metadata = in->metadata,
        .tags = in->tags,
        .parent_file_id = in->parent_file_id,
        .derivative_kind = in->derivative_kind,
    };
    if (w.storage_key == NULL)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    if ((rc = files_reserve(req, &w)) != PN_OK)
        return rc;
    files_memsrc_t src = {.segs = in->segs, .nsegs = in->nsegs};
    rc = files_st->put(req, st, w.storage_key, files_memsrc_read, &src, total, ctype);
    if (rc != PN_OK) {
        files_release(req, account, upload_id);
        return rc;
    }
    rc = files_commit(req, &w, &m, &jobs);
    if (rc != PN_OK) {
        if (rc != PN_E_CONFLICT) /* a conflict means the sweeper already released it */
            files_release(req, account, upload_id);
        files_st->remove(req, st, w.storage_key);
        return rc;
    }
    files_push_jobs(req, jobs);
    json_decref(jobs);
    if (DB->req_account_id(req))
        DB->event_publish(req, FILES_CHANNEL,
                          in->target_file_id ? "file.version_created" : "file.uploaded",
                          json_pack("{s:s, s:s, s:s, s:I}", "id", file_id, "version_id", version_id,
                                    "content_type", ctype, "size", (json_int_t)total));
    PN_INFO("file stored file=%s version=%s size=%llu type=%s", file_id, version_id,
            (unsigned long long)total, ctype);
    json_t *f = files_file_get(req, account, file_id, false);
    if (f == NULL)
        return PN_E_NOTFOUND;
    return pn_reply_created(req, f);
}

/* ---- deletion ---- */

int
files_blob_forget(pn_req_t *req, const char *account_id, const char *storage_id,
                  const char *storage_key)
{
    return pn_db_query(req, NULL,
                       "INSERT INTO file_blob_deletions (account_id, storage_id, storage_key) "
                       "VALUES ($1, $2, $3)",
                       account_id, storage_id, storage_key);
}

int
files_purge_in_tx(pn_req_t *req, const char *account_id, const char *file_id)
{
    pn_rows_t *rows;
    int rc = pn_db_query(
        req, &rows,
        "WITH RECURSIVE tree AS (SELECT id FROM file_objects WHERE id = $1 AND account_id = $2 "
        "UNION ALL SELECT f.id FROM file_objects f JOIN tree t ON f.parent_file_id = t.id), "
        "v AS (SELECT v.storage_id, v.storage_key, v.file_size FROM file_versions v "
        "JOIN tree t ON v.file_object_id = t.id), "
        "ins AS (INSERT INTO file_blob_deletions (account_id, storage_id, storage_key) "
        "SELECT $2, storage_id, storage_key FROM v) "
        "SELECT storage_id, sum(file_size)::bigint FROM v GROUP BY storage_id",
        file_id, account_id);
    if (rc != PN_OK)
        return rc;
    for (int i = 0; i < pn_rows_count(rows); i++) {
        const char *sid = pn_rows_value(rows, i, 0), *bytes = pn_rows_value(rows, i, 1);
        if ((rc = pn_db_query(req, NULL, account_release_sql, account_id, bytes)) != PN_OK ||
            (rc = pn_db_query(req, NULL, storage_release_sql, sid, bytes, account_id)) != PN_OK)
            return rc;
    }
    return pn_db_query(req, NULL, "DELETE FROM file_objects WHERE id = $1 AND account_id = $2",
                       file_id, account_id);
}

int
files_blob_drain(pn_req_t *req, const char *account_id, int limit, int *removed)
{
    char lim[16];
    pn_rows_t *rows;
    int rc;

    *removed = 0;
    (void)snprintf(lim, sizeof lim, "%d", limit);
    rc = pn_db_query(req, &rows,
                     "SELECT id, account_id, storage_id, storage_key FROM file_blob_deletions "
                     "WHERE ($1::uuid IS NULL OR account_id = $1) ORDER BY id LIMIT $2::integer",
                     account_id, lim);
    if (rc != PN_OK)
        return rc;
    for (int i = 0; i < pn_rows_count(rows); i++) {
        const char *id = pn_rows_value(rows, i, 0), *sid = pn_rows_value(rows, i, 2);
        const char *key = pn_rows_value(rows, i, 3);
        pn_storage_t *st;
        rc = files_st->open(req, sid, &st);
        if (rc == PN_OK) {
            rc = files_st->remove(req, st, key);
            if (rc == PN_E_NOTFOUND)
                rc = PN_OK;
        }
        if (rc == PN_OK) {
            pn_db_query(req, NULL, "DELETE FROM file_blob_deletions WHERE id = $1::bigint", id);
            (*removed)++;
        } else {
            PN_WARN("blob removal failed storage=%s rc=%d (kept for the sweeper)", sid, rc);
            pn_db_query(
                req, NULL,
                "UPDATE file_blob_deletions SET attempts = attempts + 1 WHERE id = $1::bigint", id);
        }
    }
    return PN_OK;
}
