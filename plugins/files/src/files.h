/*
 * The files plugin's internal contract between its source files: configuration read at init,
 * the storage service, and the helpers every handler shares (reservations, commits, jobs,
 * serving a version). Everything here runs on handler threads through the SDK only.
 */
#ifndef FILES_H
#define FILES_H

#include <powernode/plugin.h>
#include <powernode/storage.h>

/* Configuration, read once in init and read-only afterwards. */
typedef struct files_cfg {
    int64_t upload_max_body;     /* raw/multipart upload route limit */
    int64_t chunk_max_body;      /* one tus PATCH */
    int64_t max_file_size;       /* Upload-Length and any single file */
    int64_t account_quota_bytes; /* 0 = unlimited */
    int64_t trash_days;
    int64_t upload_expiry_s;    /* tus uploads and reservations of simple uploads */
    int64_t remote_buffer_max;  /* largest remote object proxied through memory */
    int64_t share_pw_per_share; /* password attempts per share per window */
    int64_t share_pw_per_ip;    /* password attempts per client address per window */
    int64_t share_pw_window_s;
    int64_t signed_url_max_ttl;
    int64_t job_requeue_s; /* pending jobs pushed longer ago than this are pushed again */
    unsigned char sign_key[64];
    size_t sign_keylen;
} files_cfg_t;

extern files_cfg_t files_cfg;
extern const pn_storage_vt_t *files_st;

#define FILES_QUEUE "file_processing"
#define FILES_ADMIN_READ "admin.files.read"
#define FILES_ADMIN_MANAGE "admin.files.manage"

/* files_scope.c: the account a handler works in (*account): the caller's, or the one
 * ?account_id= names when the caller holds admin.files.read (manage = false) or
 * admin.files.manage. 422 for a malformed id, 403 without the permission. */
int files_scope_account(pn_req_t *req, bool manage, const char **account);
#define FILES_CHANNEL "files.files"

/* ---- files_store.c: reservations, blobs, commits ---- */

/* Bytes being written and what they will become. All strings are the caller's. */
typedef struct files_write {
    const char *account_id;
    const char *user_id;     /* NULL for service callers */
    const char *upload_id;   /* file_uploads row (the reservation) */
    const char *storage_id;  /* file_storages id of the open storage */
    const char *storage_key; /* acct/<account>/files/<file>/<version> */
    const char *file_id;
    const char *version_id;
    const char *kind; /* "simple" or "tus" */
    uint64_t size;
    int64_t expires_in_s;
    const char *target_file_id; /* non-NULL: a new version of this file */
    json_t *options;            /* borrowed; stored with the reservation */
} files_write_t;

/* Reserve w->size bytes in the account and the storage quota and record the intent to write,
 * in one transaction. PN_E_INVALID (422) with a sentence when a quota would be exceeded. */
int files_reserve(pn_req_t *req, const files_write_t *w);
/* Undo a reservation (the write failed or was abandoned): delete the row and give the bytes
 * back, once. Logs and returns the code on a database failure. */
int files_release(pn_req_t *req, const char *account_id, const char *upload_id);

/* The metadata of a file being committed. */
typedef struct files_meta {
    const char *filename;     /* cleaned */
    const char *content_type; /* sniffed */
    const char *sha256;
    const char *category;
    const char *visibility;
    const char *description;
    const char *change_description;
    json_t *metadata;           /* object or NULL (borrowed) */
    json_t *tags;               /* array of cleaned names or NULL (borrowed) */
    const char *parent_file_id; /* derivatives */
    const char *derivative_kind;
} files_meta_t;

/* Turn a reservation into rows, in one transaction: the reservation row is deleted, the file
 * (or its new version), tags and processing job rows inserted. On success *jobs is a new JSON
 * array of {id, class} to push after commit. PN_E_CONFLICT when the reservation is gone (it
 * expired and was swept). */
int files_commit(pn_req_t *req, const files_write_t *w, const files_meta_t *m, json_t **jobs);
/* Push committed job rows; a failed push leaves the row pending for the reconciler. */
void files_push_jobs(pn_req_t *req, json_t *jobs);

/* A memory source over segments, for pn_storage_vt_t.put. */
typedef struct files_seg {
    const char *p;
    size_t n;
} files_seg_t;
typedef struct files_memsrc {
    const files_seg_t *segs;
    size_t nsegs, i, off;
} files_memsrc_t;
int files_memsrc_read(void *ud, void *buf, size_t cap, size_t *got);

/* Store segments as one new file or version with everything the upload routes share:
 * sniffing, hashing, reserve, put, commit, jobs, event. Replies 201 with the file on success. */
typedef struct files_upload_in {
    const files_seg_t *segs;
    size_t nsegs;
    const char *filename;   /* raw, cleaned here */
    const char *storage_id; /* NULL = the account's default */
    const char *category, *visibility, *description, *change_description;
    json_t *metadata, *tags;
    const char *target_file_id; /* new version */
    const char *account_id;     /* for service callers (derivatives); else the principal's */
    const char *parent_file_id, *derivative_kind;
} files_upload_in_t;
int files_store_upload(pn_req_t *req, const files_upload_in_t *in);

/* Record blobs whose rows are being deleted, inside the caller's transaction. */
int files_blob_forget(pn_req_t *req, const char *account_id, const char *storage_id,
                      const char *storage_key);
/* Remove blobs recorded for deletion (after the deleting transaction committed); keeps the
 * ones whose removal failed for the sweeper. `limit` rows at most; account NULL = all. */
int files_blob_drain(pn_req_t *req, const char *account_id, int limit, int *removed);

/* Delete a file, its versions, derivatives, shares, tags and jobs permanently (the caller's
 * transaction must be open): blobs are queued with files_blob_forget and usage given back. */
int files_purge_in_tx(pn_req_t *req, const char *account_id, const char *file_id);

/* ---- files_json.c: rows to replies ---- */

/* SELECT list of a file summary (alias f) */
extern const char files_summary_cols[];
/* The one file of this account (not deleted unless include_deleted) as JSON, or NULL with
 * PN_E_NOTFOUND set. */
json_t *files_file_get(pn_req_t *req, const char *account_id, const char *id, bool include_deleted);
json_t *files_row0(pn_req_t *req, pn_rows_t *rows);
const char *files_str(json_t *obj, const char *key);

/* ---- files_download.c ---- */

/* Serve one version's bytes with Range, ETag, Disposition and the security headers.
 * disposition: "attachment" or "inline" (active types are always attachment). */
int files_serve(pn_req_t *req, const char *account_id, const char *storage_id,
                const char *storage_key, const char *version_id, uint64_t size,
                const char *content_type, const char *filename, const char *disposition);

/* ---- handlers ---- */
int files_h_list(pn_req_t *req);
int files_h_show(pn_req_t *req);
int files_h_update(pn_req_t *req);
int files_h_delete(pn_req_t *req);
int files_h_restore(pn_req_t *req);
int files_h_trash(pn_req_t *req);
int files_h_trash_empty(pn_req_t *req);
int files_h_stats(pn_req_t *req);
int files_h_upload(pn_req_t *req);
int files_h_version_upload(pn_req_t *req);
int files_h_versions(pn_req_t *req);
int files_h_version_download(pn_req_t *req);
int files_h_version_restore(pn_req_t *req);
int files_h_download(pn_req_t *req);
int files_h_signed_url(pn_req_t *req);
int files_h_signed_download(pn_req_t *req);
int files_h_tags_list(pn_req_t *req);
int files_h_tags_add(pn_req_t *req);
int files_h_tags_remove(pn_req_t *req);
int files_h_shares_list(pn_req_t *req);
int files_h_share_create(pn_req_t *req);
int files_h_share_revoke(pn_req_t *req);
int files_h_public_share(pn_req_t *req);
int files_h_tus_create(pn_req_t *req);
int files_h_tus_head(pn_req_t *req);
int files_h_tus_patch(pn_req_t *req);
int files_h_tus_delete(pn_req_t *req);
int files_h_worker_file(pn_req_t *req);
int files_h_worker_download(pn_req_t *req);
int files_h_worker_update(pn_req_t *req);
int files_h_worker_derivative(pn_req_t *req);
int files_h_worker_job(pn_req_t *req);
int files_h_worker_job_update(pn_req_t *req);
int files_h_sweep(pn_req_t *req);

/* files_reconcile.c: registered as jobs.reconciler.files (plugins/queues' convention) */
struct pn_jobs_reconciler;
extern const struct pn_jobs_reconciler files_reconciler;

/* files_routes.c */
int files_routes_add(pn_plugin_ctx_t *ctx, const pn_host_t *host);

#endif
