/*
 * Worker-facing routes (service tokens only, so no account on the principal: rows are found by
 * id alone, and every write names the row's own account): file details, content, metadata
 * updates, derivative uploads, processing job status, and the sweeper the worker's schedule
 * calls (trash purge, expired uploads, blob deletions, re-pushing jobs that stayed queued).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "files_names.h"

#define DB pn_host_

static json_t *
worker_file(pn_req_t *req, const char *id)
{
    pn_rows_t *rows;

    if (!files_is_uuid(id)) {
        pn_fail(req, PN_E_NOTFOUND, "file not found");
        return NULL;
    }
    int rc =
        pn_db_query(req, &rows,
                    pn_req_printf(req,
                                  "SELECT %s, f.account_id, v.storage_key, "
                                  "v.id AS version_id FROM file_objects f JOIN file_versions v "
                                  "ON v.id = f.current_version_id WHERE f.id = $1 "
                                  "AND f.deleted_at IS NULL",
                                  files_summary_cols),
                    id);
    if (rc != PN_OK)
        return NULL;
    if (pn_rows_count(rows) == 0) {
        pn_fail(req, PN_E_NOTFOUND, "file not found");
        return NULL;
    }
    return DB->req_keep_json(req, files_row0(req, rows));
}

int
files_h_worker_file(pn_req_t *req)
{
    json_t *f = worker_file(req, pn_req_param(req, "id"));

    if (f == NULL)
        return PN_E_NOTFOUND;
    json_object_del(f, "storage_key"); /* workers read content through the API */
    return pn_reply_ok(req, json_incref(f));
}

int
files_h_worker_download(pn_req_t *req)
{
    json_t *f = worker_file(req, pn_req_param(req, "id"));

    if (f == NULL)
        return PN_E_NOTFOUND;
    return files_serve(req, files_str(f, "account_id"), files_str(f, "storage_id"),
                       files_str(f, "storage_key"), files_str(f, "version_id"),
                       (uint64_t)json_integer_value(json_object_get(f, "file_size")),
                       files_str(f, "content_type"), files_str(f, "filename"), "attachment");
}

static const char *
dump(pn_req_t *req, json_t *j)
{
    if (j == NULL)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT);
    const char *r = s ? DB->req_strdup(req, s) : NULL;
    free(s);
    return r;
}

/* PATCH /api/v1/worker/files/:id: metadata, exif_data and dimensions are merged. */
int
files_h_worker_update(pn_req_t *req)
{
    const char *id = pn_req_param(req, "id");
    json_t *b = pn_req_json(req);
    pn_rows_t *rows;

    if (!files_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "file not found");
    int rc = pn_db_query(
        req, &rows,
        "UPDATE file_objects SET processing_status = COALESCE($2, processing_status), "
        "metadata = metadata || COALESCE($3::jsonb, '{}'), "
        "exif_data = exif_data || COALESCE($4::jsonb, '{}'), "
        "dimensions = dimensions || COALESCE($5::jsonb, '{}'), updated_at = now() "
        "WHERE id = $1 AND deleted_at IS NULL RETURNING id",
        id, files_str(b, "processing_status"), dump(req, json_object_get(b, "metadata")),
        dump(req, json_object_get(b, "exif_data")), dump(req, json_object_get(b, "dimensions")));
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "file not found");
    json_t *f = worker_file(req, id);
    if (f == NULL)
        return PN_E_NOTFOUND;
    json_object_del(f, "storage_key");
    return pn_reply_ok(req, json_incref(f));
}

/* POST /api/v1/worker/files/:id/derivatives?kind=thumbnail&name=small.jpg (raw body): a file of
 * its own, linked to the original, in the original's account and storage. */
int
files_h_worker_derivative(pn_req_t *req)
{
    const char *kind = pn_req_query(req, "kind"), *name = pn_req_query(req, "name");
    json_t *f = worker_file(req, pn_req_param(req, "id"));
    size_t len;
    const char *body = DB->req_body(req, &len);

    if (f == NULL)
        return PN_E_NOTFOUND;
    bool kind_ok = kind && *kind && strlen(kind) <= 64;
    for (const char *k = kind; kind_ok && *k; k++)
        kind_ok = (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_';
    if (!kind_ok) {
        pn_fail_field(req, "kind", "1 to 64 of [a-z0-9_]");
        return pn_fail(req, PN_E_INVALID, "invalid derivative kind");
    }
    files_seg_t seg = {body, len};
    files_upload_in_t in = {
        .segs = &seg,
        .nsegs = 1,
        .filename = pn_req_printf(req, "%s-%s", kind, name ? name : files_str(f, "filename")),
        .storage_id = files_str(f, "storage_id"),
        .category = "derivative",
        .visibility = files_str(f, "visibility"),
        .account_id = files_str(f, "account_id"),
        .parent_file_id = files_str(f, "id"),
        .derivative_kind = kind,
    };
    return files_store_upload(req, &in);
}

/* ---- processing jobs ---- */

static const char job_cols[] =
    "j.id, j.account_id, j.file_object_id, j.job_type, j.job_class, j.status, j.priority, "
    "j.job_parameters, j.result_data, j.error_details, j.retry_count, j.max_retries, "
    "j.enqueued_at, j.started_at, j.completed_at, j.duration_ms, j.output_storage_key, "
    "j.created_at, j.updated_at";

static json_t *
job_get(pn_req_t *req, const char *id)
{
    pn_rows_t *rows;
    int rc = pn_db_query(req, &rows,
                         pn_req_printf(req,
                                       "SELECT %s, jsonb_build_object('id', f.id, 'filename', "
                                       "f.filename, 'content_type', f.content_type, 'file_size', "
                                       "f.file_size, 'file_type', f.file_type) AS file_object "
                                       "FROM file_processing_jobs j JOIN file_objects f ON "
                                       "f.id = j.file_object_id WHERE j.id = $1",
                                       job_cols),
                         id);
    if (rc != PN_OK)
        return NULL;
    if (pn_rows_count(rows) == 0) {
        pn_fail(req, PN_E_NOTFOUND, "processing job not found");
        return NULL;
    }
    return files_row0(req, rows);
}

int
files_h_worker_job(pn_req_t *req)
{
    const char *id = pn_req_param(req, "id");

    if (!files_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "processing job not found");
    json_t *j = job_get(req, id);
    return j ? pn_reply_ok(req, j) : PN_E_NOTFOUND;
}

/* After a committed transition: the file's owners see processing move live. Every transition
 * is "file.processing"; the file's summary reaching completed or failed is also
 * "file.processed". Worker routes have no account of their own, so the job's is named. */
static void
publish_progress(pn_req_t *req, const char *account_id, const char *file_id, const char *job_id,
                 const char *job_type, const char *job_status, const char *file_status)
{
    if (!PN_HOST_HAS(DB, event_publish_account))
        return;
    DB->event_publish_account(req, account_id, FILES_CHANNEL, "file.processing",
                              json_pack("{s:s, s:s, s:s, s:s, s:s?}", "id", file_id, "job_id",
                                        job_id, "job_type", job_type, "job_status", job_status,
                                        "processing_status", file_status));
    if (file_status &&
        (strcmp(file_status, "completed") == 0 || strcmp(file_status, "failed") == 0))
        DB->event_publish_account(
            req, account_id, FILES_CHANNEL, "file.processed",
            json_pack("{s:s, s:s}", "id", file_id, "processing_status", file_status));
}

/* pending -> processing -> completed | failed. Repeating the transition that led to the
 * current status changes nothing and answers 200; anything else is 409. */
int
files_h_worker_job_update(pn_req_t *req)
{
    const char *id = pn_req_param(req, "id");
    json_t *b = pn_req_json(req);
    const char *to = files_str(b, "status");
    pn_rows_t *rows;
    int rc;

    if (!files_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "processing job not found");
    if ((rc = DB->db_begin(req)) != PN_OK)
        return rc;
    rc =
        pn_db_query(req, &rows,
                    "SELECT status, file_object_id, account_id, job_type FROM file_processing_jobs "
                    "WHERE id = $1 FOR UPDATE",
                    id);
    if (rc != PN_OK)
        goto fail;
    if (pn_rows_count(rows) == 0) {
        rc = pn_fail(req, PN_E_NOTFOUND, "processing job not found");
        goto fail;
    }
    const char *from = pn_rows_value(rows, 0, 0), *file_id = pn_rows_value(rows, 0, 1);
    const char *account_id = pn_rows_value(rows, 0, 2), *job_type = pn_rows_value(rows, 0, 3);
    pn_rows_t *summary;
    if (strcmp(from, to) == 0) {
        DB->db_rollback(req);
        json_t *j = job_get(req, id);
        return j ? pn_reply_ok(req, j) : PN_E_NOTFOUND;
    }
    bool ok = (strcmp(from, "pending") == 0 && strcmp(to, "processing") == 0) ||
              (strcmp(from, "processing") == 0 &&
               (strcmp(to, "completed") == 0 || strcmp(to, "failed") == 0));
    if (!ok) {
        rc = pn_fail(req, PN_E_CONFLICT, "a job cannot go from %s to %s", from, to);
        goto fail;
    }
    rc = pn_db_query(
        req, NULL,
        "UPDATE file_processing_jobs SET status = $2, "
        "started_at = CASE WHEN $2 = 'processing' THEN now() ELSE started_at END, "
        "completed_at = CASE WHEN $2 <> 'processing' THEN now() ELSE completed_at END, "
        "duration_ms = CASE WHEN $2 <> 'processing' THEN "
        "(extract(epoch FROM now() - started_at) * 1000)::bigint ELSE duration_ms END, "
        "result_data = result_data || COALESCE($3::jsonb, '{}'), "
        "error_details = error_details || COALESCE($4::jsonb, '{}'), "
        "output_storage_key = COALESCE($5, output_storage_key), updated_at = now() WHERE id = $1",
        id, to, dump(req, json_object_get(b, "result_data")),
        dump(req, json_object_get(b, "error_details")), files_str(b, "output_storage_key"));
    if (rc != PN_OK)
        goto fail;
    /* The file's status summarises its jobs: any failed -> failed, all completed ->
     * completed, any started -> processing. */
    rc = pn_db_query(req, &summary,
                     "UPDATE file_objects SET processing_status = s.st, updated_at = now() FROM "
                     "(SELECT CASE WHEN bool_or(status = 'failed') THEN 'failed' "
                     "WHEN bool_and(status = 'completed') THEN 'completed' "
                     "WHEN bool_or(status <> 'pending') THEN 'processing' ELSE 'pending' END AS st "
                     "FROM file_processing_jobs WHERE file_object_id = $1) s WHERE id = $1 "
                     "RETURNING processing_status",
                     file_id);
    if (rc != PN_OK)
        goto fail;
    if ((rc = DB->db_commit(req)) != PN_OK)
        return rc;
    publish_progress(req, account_id, file_id, id, job_type, to,
                     pn_rows_count(summary) == 1 ? pn_rows_value(summary, 0, 0) : NULL);
    json_t *j = job_get(req, id);
    return j ? pn_reply_ok(req, j) : PN_E_NOTFOUND;
fail:
    DB->db_rollback(req);
    return rc;
}

/* ---- the sweeper ---- */

static int
sweep_uploads(pn_req_t *req, int *n)
{
    pn_rows_t *rows;
    int rc = DB->db_query(req,
                          "SELECT id, account_id FROM file_uploads WHERE expires_at <= now() "
                          "ORDER BY expires_at LIMIT 200",
                          0, NULL, &rows);
    *n = 0;
    if (rc != PN_OK)
        return rc;
    for (int i = 0; i < pn_rows_count(rows); i++) {
        const char *id = pn_rows_value(rows, i, 0), *acct = pn_rows_value(rows, i, 1);
        pn_rows_t *del;
        /* The row goes and its bytes are queued for removal in one transaction; whoever
         * deletes the row first (this, or a commit racing it) owns the outcome. */
        if ((rc = DB->db_begin(req)) != PN_OK)
            return rc;
        rc = pn_db_query(req, &del,
                         "DELETE FROM file_uploads WHERE id = $1 AND expires_at <= now() "
                         "RETURNING storage_id, upload_length, chunk_count, storage_key",
                         id);
        if (rc == PN_OK && pn_rows_count(del) == 1) {
            const char *sid = pn_rows_value(del, 0, 0), *len = pn_rows_value(del, 0, 1);
            long chunks = atol(pn_rows_value(del, 0, 2));
            rc = pn_db_query(req, NULL,
                             "UPDATE files_account_usage SET used_bytes = "
                             "GREATEST(used_bytes - $2::bigint, 0) WHERE account_id = $1",
                             acct, len);
            if (rc == PN_OK)
                rc = pn_db_query(req, NULL,
                                 "UPDATE file_storages SET used_bytes = GREATEST(used_bytes - "
                                 "$2::bigint, 0) WHERE id = $1 AND account_id = $3",
                                 sid, len, acct);
            if (rc == PN_OK)
                rc = files_blob_forget(req, acct, sid, pn_rows_value(del, 0, 3));
            for (long c = 0; rc == PN_OK && c <= chunks; c++)
                rc = files_blob_forget(req, acct, sid,
                                       pn_req_printf(req, "acct/%s/uploads/%s/%ld", acct, id, c));
            if (rc == PN_OK) /* the staging file of an upload written in place */
                rc = files_blob_forget(req, acct, sid,
                                       pn_req_printf(req, "acct/%s/uploads/%s/data", acct, id));
        }
        if (rc != PN_OK) {
            DB->db_rollback(req);
            return rc;
        }
        if ((rc = DB->db_commit(req)) != PN_OK)
            return rc;
        (*n)++;
    }
    return PN_OK;
}

static int
sweep_trash(pn_req_t *req, int *n)
{
    pn_rows_t *rows;
    char days[24];

    *n = 0;
    (void)snprintf(days, sizeof days, "%lld", (long long)files_cfg.trash_days);
    int rc = pn_db_query(req, &rows,
                         "SELECT id, account_id FROM file_objects WHERE deleted_at IS NOT NULL "
                         "AND deleted_at < now() - make_interval(days => $1::integer) "
                         "ORDER BY deleted_at LIMIT 200",
                         days);
    if (rc != PN_OK)
        return rc;
    for (int i = 0; i < pn_rows_count(rows); i++) {
        if ((rc = DB->db_begin(req)) != PN_OK)
            return rc;
        rc = files_purge_in_tx(req, pn_rows_value(rows, i, 1), pn_rows_value(rows, i, 0));
        if (rc != PN_OK) {
            DB->db_rollback(req);
            return rc;
        }
        if ((rc = DB->db_commit(req)) != PN_OK)
            return rc;
        (*n)++;
    }
    return PN_OK;
}

static int
requeue(pn_req_t *req, int *n)
{
    pn_rows_t *rows;
    char secs[24];

    *n = 0;
    (void)snprintf(secs, sizeof secs, "%lld", (long long)files_cfg.job_requeue_s);
    int rc = pn_db_query(req, &rows,
                         "SELECT id, job_class FROM file_processing_jobs WHERE status = 'pending' "
                         "AND ((enqueued_at IS NULL AND created_at < now() - interval '1 minute') "
                         "OR enqueued_at < now() - make_interval(secs => $1::bigint)) "
                         "ORDER BY created_at LIMIT 500",
                         secs);
    if (rc != PN_OK)
        return rc;
    json_t *jobs = json_array();
    for (int i = 0; i < pn_rows_count(rows); i++)
        json_array_append_new(jobs, json_pack("{s:s, s:s}", "id", pn_rows_value(rows, i, 0),
                                              "class", pn_rows_value(rows, i, 1)));
    files_push_jobs(req, jobs);
    *n = (int)json_array_size(jobs);
    json_decref(jobs);
    return PN_OK;
}

/* POST /api/v1/worker/files/sweep: one bounded pass; the worker's schedule calls it. */
int
files_h_sweep(pn_req_t *req)
{
    int uploads = 0, trash = 0, blobs = 0, jobs = 0, rc;

    if ((rc = sweep_uploads(req, &uploads)) != PN_OK || (rc = sweep_trash(req, &trash)) != PN_OK ||
        (rc = files_blob_drain(req, NULL, 1000, &blobs)) != PN_OK ||
        (rc = requeue(req, &jobs)) != PN_OK)
        return rc;
    if (uploads || trash || blobs || jobs)
        PN_INFO("sweep uploads=%d trash=%d blobs=%d jobs=%d", uploads, trash, blobs, jobs);
    return pn_reply_ok(req,
                       json_pack("{s:i, s:i, s:i, s:i}", "expired_uploads", uploads, "purged_files",
                                 trash, "blobs_removed", blobs, "jobs_requeued", jobs));
}
