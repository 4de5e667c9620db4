/*
 * The files plugin: descriptor, configuration and init. Files, versions, shares, tags,
 * processing jobs and resumable uploads over the storage plugin's providers.
 */
#include <stdio.h>
#include <string.h>

#include <powernode/jobs_reconciler.h>

#include "files.h"
#include "files_crypto.h"

files_cfg_t files_cfg;
const pn_storage_vt_t *files_st;

static const pn_config_key_t config[] = {
    {"upload_max_body", PN_CFG_INT, "67108864", 1024, 1073741824,
     "largest body of a multipart or raw upload, bytes"},
    {"chunk_max_body", PN_CFG_INT, "16777216", 65536, 268435456,
     "largest body of one tus PATCH, bytes"},
    {"max_file_size", PN_CFG_INT, "5368709120", 1, 1099511627776.0,
     "largest file (Tus-Max-Size), bytes"},
    {"account_quota_bytes", PN_CFG_INT, "0", 0, 1e18, "bytes per account; 0 = unlimited"},
    {"trash_days", PN_CFG_INT, "30", 1, 3650, "days a deleted file stays in the trash"},
    {"upload_expiry_hours", PN_CFG_INT, "24", 1, 720,
     "hours an unfinished tus upload (and its quota reservation) lives"},
    {"remote_buffer_max", PN_CFG_INT, "1048576", 0, 67108864,
     "largest remote object (or range) sent from memory with a Content-Length; larger ones are "
     "streamed at the client's pace"},
    {"share_password_attempts", PN_CFG_INT, "5", 1, 1000, "password attempts per share per window"},
    {"share_password_attempts_ip", PN_CFG_INT, "20", 1, 100000,
     "password attempts per client address per window"},
    {"share_password_window", PN_CFG_INT, "900", 1, 86400, "seconds of the attempt window"},
    {"signed_url_max_ttl", PN_CFG_INT, "86400", 60, 604800, "longest signed URL lifetime, s"},
    {"job_requeue_seconds", PN_CFG_INT, "900", 60, 86400,
     "a pending job pushed longer ago than this is pushed again by the sweeper"},
    {"signing_key", PN_CFG_STRING, "", 0, 512,
     "HMAC key of signed URLs (>= 32 bytes); empty = random per process (env "
     "POWERNODE_PLUGINS_FILES_SIGNING_KEY)"},
    PN_CONFIG_END,
};

static const pn_perm_t perms[] = {
    {"files.files.read", "List and view files", "Files"},
    {"files.files.create", "Upload files", "Files"},
    {"files.files.update", "Edit file metadata", "Files"},
    {"files.files.delete", "Delete, restore and purge files", "Files"},
    {"files.files.download", "Download files and make signed URLs", "Files"},
    {"files.shares.create", "Create and revoke share links", "Files"},
    {"files.versions.create", "Upload and restore file versions", "Files"},
    {"files.tags.manage", "Add and remove tags", "Files"},
    {FILES_ADMIN_READ, "Read another account's files, trash, usage (?account_id=)", "Files"},
    {FILES_ADMIN_MANAGE, "Trash and restore another account's files (?account_id=)", "Files"},
    PN_PERM_END,
};

static int
files_init(pn_plugin_ctx_t *ctx, const pn_host_t *host)
{
    int rc;

    if ((rc = PN_ADD(host->config_declare, ctx, config)) != PN_OK ||
        (rc = PN_ADD(host->perm_add, ctx, perms)) != PN_OK)
        return rc;
    files_cfg.upload_max_body = host->config_int(ctx, "upload_max_body");
    files_cfg.chunk_max_body = host->config_int(ctx, "chunk_max_body");
    files_cfg.max_file_size = host->config_int(ctx, "max_file_size");
    files_cfg.account_quota_bytes = host->config_int(ctx, "account_quota_bytes");
    files_cfg.trash_days = host->config_int(ctx, "trash_days");
    files_cfg.upload_expiry_s = host->config_int(ctx, "upload_expiry_hours") * 3600;
    files_cfg.remote_buffer_max = host->config_int(ctx, "remote_buffer_max");
    files_cfg.share_pw_per_share = host->config_int(ctx, "share_password_attempts");
    files_cfg.share_pw_per_ip = host->config_int(ctx, "share_password_attempts_ip");
    files_cfg.share_pw_window_s = host->config_int(ctx, "share_password_window");
    files_cfg.signed_url_max_ttl = host->config_int(ctx, "signed_url_max_ttl");
    files_cfg.job_requeue_s = host->config_int(ctx, "job_requeue_seconds");
    const char *key = host->config_string(ctx, "signing_key");
    if (key && *key) {
        if (strlen(key) < 32) {
            PN_ERROR("plugins.files.signing_key must be at least 32 bytes");
            return PN_E_INVALID;
        }
        files_cfg.sign_keylen =
            strlen(key) < sizeof files_cfg.sign_key ? strlen(key) : sizeof files_cfg.sign_key;
        memcpy(files_cfg.sign_key, key, files_cfg.sign_keylen);
    } else {
        char tok[44];
        if (files_random_token(tok) != 0) {
            PN_ERROR("no randomness for the URL signing key");
            return PN_E_INTERNAL;
        }
        memcpy(files_cfg.sign_key, tok, 43);
        files_cfg.sign_keylen = 43;
        PN_WARN("plugins.files.signing_key is empty: signed URLs are valid only for this process");
    }
    if (!PN_HOST_HAS(host, reply_fd)) {
        PN_ERROR("the server is too old for the files plugin (no reply_fd)");
        return PN_E_INVALID;
    }
    files_st = host->service_get(ctx, PN_STORAGE_SERVICE, PN_STORAGE_SERVICE_VERSION);
    if (files_st == NULL) {
        PN_ERROR("the storage service %s is not available", PN_STORAGE_SERVICE);
        return PN_E_UNAVAILABLE;
    }
    if ((rc = files_routes_add(ctx, host)) != PN_OK ||
        (rc = host->sql_dir_add(ctx, "sql")) != PN_OK ||
        (rc = host->service_add(ctx, PN_JOBS_RECONCILER_PREFIX "files", PN_JOBS_RECONCILER_VERSION,
                                &files_reconciler)) != PN_OK)
        return rc;
    return PN_OK;
}

static const char *const depends[] = {"storage", NULL};

PN_PLUGIN(.name = "files", .version = "0.1.0", .kind = PN_KIND_NAMESPACE, .init = files_init,
          .depends = depends,
          .summary = "Files: uploads (multipart, raw, tus), downloads, versions, shares, tags");
