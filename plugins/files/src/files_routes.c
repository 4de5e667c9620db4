/*
 * The route table: paths mirror the original's where they make sense (see README.md for the
 * mapping). Body limits of the upload routes come from the configuration, so the table is
 * filled in at init.
 */
#include "files.h"

#define F "/api/v1/files"
#define W "/api/v1/worker"

static const char file_schema[] =
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "\"filename\":{\"type\":\"string\"},\"content_type\":{\"type\":\"string\"},"
    "\"file_size\":{\"type\":\"integer\"},\"file_type\":{\"type\":\"string\"},"
    "\"category\":{\"type\":\"string\"},\"visibility\":{\"type\":\"string\"},"
    "\"version\":{\"type\":\"integer\"},\"tags\":{\"type\":\"array\"}}}";

static const char update_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"filename\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
    "\"description\":{\"type\":\"string\",\"maxLength\":2000},"
    "\"visibility\":{\"enum\":[\"private\",\"public\",\"shared\",\"internal\"]},"
    "\"category\":{\"enum\":[\"user_upload\",\"workflow_output\",\"ai_generated\",\"temp\","
    "\"system\",\"import\",\"page_content\"]},"
    "\"metadata\":{\"type\":\"object\"}}}";

static const char tags_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"tags\"],"
    "\"properties\":{\"tags\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":20,"
    "\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100}}}}";

static const char share_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"expires_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"expires_in\":{\"type\":\"integer\",\"minimum\":60,\"maximum\":31536000},"
    "\"max_downloads\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000000},"
    "\"password\":{\"type\":\"string\",\"minLength\":8,\"maxLength\":256}}}";

static const char share_access_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"password\":{\"type\":\"string\",\"maxLength\":256}}}";

static const char worker_file_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"processing_status\":{\"enum\":[\"pending\",\"processing\",\"completed\",\"failed\"]},"
    "\"metadata\":{\"type\":\"object\"},\"exif_data\":{\"type\":\"object\"},"
    "\"dimensions\":{\"type\":\"object\"}}}";

static const char job_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"status\"],"
    "\"properties\":{\"status\":{\"enum\":[\"processing\",\"completed\",\"failed\"]},"
    "\"result_data\":{\"type\":\"object\"},\"error_details\":{\"type\":\"object\"},"
    "\"output_storage_key\":{\"type\":\"string\",\"maxLength\":512}}}";

enum { R_UPLOAD = 0, R_VERSION_UPLOAD = 1, R_TUS_PATCH = 2, R_DERIVATIVE = 3 };

static pn_route_t routes[] = {
    [R_UPLOAD] = {PN_POST, F "/upload", "files.files.create", files_h_upload,
                  "Upload a file (multipart/form-data or raw body)", 0, NULL, file_schema,
                  PN_ROUTE_RAW_BODY},
    [R_VERSION_UPLOAD] = {PN_POST, F "/:id/versions", "files.versions.create",
                          files_h_version_upload, "Upload a new version of a file", 0, NULL,
                          file_schema, PN_ROUTE_RAW_BODY},
    [R_TUS_PATCH] = {PN_PATCH, F "/uploads/:id", "files.files.create", files_h_tus_patch,
                     "Append a chunk to a resumable upload (tus 1.0.0)", 0, NULL, NULL,
                     PN_ROUTE_RAW_BODY},
    [R_DERIVATIVE] = {PN_POST, W "/files/:id/derivatives", NULL, files_h_worker_derivative,
                      "Store a derivative (thumbnail, poster) of a file", 0, NULL, file_schema,
                      PN_ROUTE_SERVICE | PN_ROUTE_RAW_BODY},
    {PN_GET, F, "files.files.read", files_h_list,
     "List files with filters, sort and pages (?account_id= with admin.files.read)", 0, NULL, NULL,
     0},
    {PN_GET, F "/stats", "files.files.read", files_h_stats,
     "File counts, bytes, usage and quota (?account_id= with admin.files.read)", 0, NULL, NULL, 0},
    {PN_GET, F "/trash", "files.files.read", files_h_trash,
     "List files in the trash (?account_id= with admin.files.read)", 0, NULL, NULL, 0},
    {PN_DELETE, F "/trash", "files.files.delete", files_h_trash_empty,
     "Empty the trash (up to 500 files per call)", 0, NULL, NULL, 0},
    {PN_GET, F "/tags", "files.files.read", files_h_tags_list,
     "List the account's tags (?account_id= with admin.files.read)", 0, NULL, NULL, 0},
    {PN_POST, F "/uploads", "files.files.create", files_h_tus_create,
     "Create a resumable upload (tus 1.0.0 creation)", 0, NULL, NULL, PN_ROUTE_RAW_BODY},
    {PN_GET, F "/uploads/:id", "files.files.create", files_h_tus_head,
     "Offset of a resumable upload (tus HEAD)", 0, NULL, NULL, 0},
    {PN_DELETE, F "/uploads/:id", "files.files.create", files_h_tus_delete,
     "Abandon a resumable upload (tus termination)", 0, NULL, NULL, 0},
    {PN_GET, F "/:id", "files.files.read", files_h_show,
     "Show a file with its versions (?account_id= with admin.files.read)", 0, NULL, file_schema, 0},
    {PN_PATCH, F "/:id", "files.files.update", files_h_update, "Update a file's metadata", 65536,
     update_schema, file_schema, 0},
    {PN_DELETE, F "/:id", "files.files.delete", files_h_delete,
     "Move a file to the trash (?permanent=true deletes it; another account's with "
     "?account_id= and admin.files.manage)",
     0, NULL, NULL, 0},
    {PN_POST, F "/:id/restore", "files.files.delete", files_h_restore,
     "Restore a file from the trash (?account_id= with admin.files.manage)", 0, NULL, file_schema,
     0},
    {PN_GET, F "/:id/download", "files.files.download", files_h_download,
     "Download a file (Range, ETag)", 0, NULL, NULL, 0},
    {PN_GET, F "/:id/signed_url", "files.files.download", files_h_signed_url,
     "A signed, expiring download URL", 0, NULL, NULL, 0},
    {PN_GET, F "/:id/versions", "files.files.read", files_h_versions,
     "List a file's versions (?account_id= with admin.files.read)", 0, NULL, NULL, 0},
    {PN_GET, F "/:id/versions/:version_id/download", "files.files.download",
     files_h_version_download, "Download one version", 0, NULL, NULL, 0},
    {PN_POST, F "/:id/versions/:version_id/restore", "files.versions.create",
     files_h_version_restore, "Make an old version current again", 0, NULL, file_schema, 0},
    {PN_POST, F "/:id/tags", "files.tags.manage", files_h_tags_add, "Add tags to a file", 16384,
     tags_schema, file_schema, 0},
    {PN_DELETE, F "/:id/tags", "files.tags.manage", files_h_tags_remove, "Remove tags from a file",
     16384, tags_schema, file_schema, 0},
    {PN_GET, F "/:id/shares", "files.files.read", files_h_shares_list,
     "List a file's shares (?account_id= with admin.files.read)", 0, NULL, NULL, 0},
    {PN_POST, F "/:id/shares", "files.shares.create", files_h_share_create,
     "Create a share link (expiry, download limit, password)", 4096, share_schema, NULL, 0},
    {PN_DELETE, F "/:id/shares/:share_id", "files.shares.create", files_h_share_revoke,
     "Revoke a share link", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/public/shares/:token", NULL, files_h_public_share,
     "Download a shared file (password in X-Share-Password)", 0, NULL, NULL, PN_ROUTE_PUBLIC},
    {PN_POST, "/api/v1/public/shares/:token", NULL, files_h_public_share,
     "Download a shared file (password in the JSON body)", 4096, share_access_schema, NULL,
     PN_ROUTE_PUBLIC},
    {PN_GET, "/api/v1/public/files/:id/download", NULL, files_h_signed_download,
     "Download through a signed URL", 0, NULL, NULL, PN_ROUTE_PUBLIC},
    {PN_GET, W "/files/:id", NULL, files_h_worker_file, "A file, for processing jobs", 0, NULL,
     file_schema, PN_ROUTE_SERVICE},
    {PN_GET, W "/files/:id/download", NULL, files_h_worker_download,
     "A file's content, for processing jobs", 0, NULL, NULL, PN_ROUTE_SERVICE},
    {PN_PATCH, W "/files/:id", NULL, files_h_worker_update, "Merge extracted metadata into a file",
     262144, worker_file_schema, file_schema, PN_ROUTE_SERVICE},
    {PN_GET, W "/processing_jobs/:id", NULL, files_h_worker_job, "A processing job", 0, NULL, NULL,
     PN_ROUTE_SERVICE},
    {PN_PATCH, W "/processing_jobs/:id", NULL, files_h_worker_job_update,
     "Move a processing job along pending, processing, completed or failed", 262144, job_schema,
     NULL, PN_ROUTE_SERVICE},
    {PN_POST, W "/files/sweep", NULL, files_h_sweep,
     "One sweeper pass: trash, expired uploads, blob removals, job re-pushes", 0, NULL, NULL,
     PN_ROUTE_SERVICE},
    PN_ROUTE_END,
};

int
files_routes_add(pn_plugin_ctx_t *ctx, const pn_host_t *host)
{
    routes[R_UPLOAD].max_body = (size_t)files_cfg.upload_max_body;
    routes[R_VERSION_UPLOAD].max_body = (size_t)files_cfg.upload_max_body;
    routes[R_TUS_PATCH].max_body = (size_t)files_cfg.chunk_max_body;
    routes[R_DERIVATIVE].max_body = (size_t)files_cfg.upload_max_body;
    return PN_ADD(host->route_add, ctx, routes);
}
