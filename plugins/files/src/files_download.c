/*
 * Downloads: one version's bytes with Range (one range, 206/416), ETag and If-None-Match
 * (304), an RFC 6266 Content-Disposition of the cleaned name, the sniffed type, and a sandbox
 * CSP (active types are always attachments). Local storage is sent zero-copy through
 * reply_fd; a remote object is read into memory up to remote_buffer_max and streamed through
 * reply_stream beyond (bounded memory, the client's pace). Also the HMAC-signed download URLs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "files_crypto.h"
#include "files_http.h"
#include "files_names.h"

typedef struct {
    char *buf;
    size_t len, cap;
} membuf_t;

static int
to_mem(void *ud, const void *d, size_t n)
{
    membuf_t *m = ud;

    if (n > m->cap - m->len)
        return PN_E_INTERNAL; /* the provider sent more than the range */
    memcpy(m->buf + m->len, d, n);
    m->len += n;
    return PN_OK;
}

/* What the streaming producer needs, copied by the kernel: no pointers into the request. */
typedef struct {
    char storage_id[40];
    char key[512];
    uint64_t off, len;
} remote_dl_t;

typedef struct {
    pn_req_t *sreq;
    pn_stream_write_fn write;
    uint64_t sent;
} remote_out_t;

static int
to_stream(void *ud, const void *d, size_t n)
{
    remote_out_t *o = ud;
    int rc = o->write(o->sreq, d, n);

    if (rc == PN_OK)
        o->sent += n;
    return rc;
}

/* Runs after the handler returned, on the kernel's stream thread, with a request of its own. */
static int
remote_produce(pn_req_t *sreq, void *ud, pn_stream_write_fn write)
{
    const remote_dl_t *d = ud;
    remote_out_t o = {.sreq = sreq, .write = write};
    pn_storage_t *st;
    int rc;

    if ((rc = files_st->open(sreq, d->storage_id[0] ? d->storage_id : NULL, &st)) != PN_OK)
        return rc;
    if ((rc = files_st->get(sreq, st, d->key, d->off, d->len, to_stream, &o)) != PN_OK)
        return rc;
    if (o.sent != d->len)
        return pn_fail(sreq, PN_E_INTERNAL, "short read from storage: %llu of %llu bytes",
                       (unsigned long long)o.sent, (unsigned long long)d->len);
    return PN_OK;
}

int
files_serve(pn_req_t *req, const char *account_id, const char *storage_id, const char *storage_key,
            const char *version_id, uint64_t size, const char *content_type, const char *filename,
            const char *disposition)
{
    char etag[48], cd[4 * FILES_NAME_MAX + 128], cr[96];
    uint64_t off = 0, len = size;
    int status = 200, rc, fd = -1;
    bool active = files_is_active_type(content_type);
    pn_storage_t *st;

    (void)account_id;
    (void)snprintf(etag, sizeof etag, "\"%s\"", version_id);
    files_disposition(active || disposition == NULL || strcmp(disposition, "inline") != 0
                          ? "attachment"
                          : "inline",
                      filename, cd, sizeof cd);
    pn_reply_header(req, "ETag", etag);
    pn_reply_header(req, "Accept-Ranges", "bytes");
    pn_reply_header(req, "Content-Disposition", cd);
    /* Whatever the bytes are, a browser opening them gets no script and no same-origin
     * access; active types additionally may load nothing at all. */
    pn_reply_header(req, "Content-Security-Policy",
                    active ? "sandbox; default-src 'none'" : "sandbox");
    if (files_etag_match(pn_req_header(req, "If-None-Match"), etag))
        return pn_host_->reply_raw(req, 304, NULL, NULL, 0);
    const char *if_range = pn_req_header(req, "If-Range");
    if (if_range == NULL || strcmp(if_range, etag) == 0) {
        switch (files_range_parse(pn_req_header(req, "Range"), size, &off, &len)) {
        case FILES_RANGE_OK:
            status = 206;
            (void)snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)off,
                           (unsigned long long)(off + len - 1), (unsigned long long)size);
            pn_reply_header(req, "Content-Range", cr);
            break;
        case FILES_RANGE_UNSAT:
            (void)snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
            pn_reply_header(req, "Content-Range", cr);
            return pn_fail(req, PN_E_RANGE, "range not satisfiable");
        case FILES_RANGE_NONE:
            off = 0;
            len = size;
            break;
        }
    }
    if ((rc = files_st->open(req, storage_id, &st)) != PN_OK)
        return rc;
    uint64_t fsize = 0;
    rc = files_st->open_fd(req, st, storage_key, &fd, &fsize);
    if (rc == PN_OK) {
        if (fsize != size) {
            close(fd);
            return pn_fail(req, PN_E_INTERNAL, "stored object size %llu differs from the row",
                           (unsigned long long)fsize);
        }
        if (!PN_HOST_HAS(pn_host_, reply_fd)) {
            close(fd);
            return pn_fail(req, PN_E_INTERNAL, "the server has no reply_fd");
        }
        return pn_host_->reply_fd(req, status, content_type, fd, off, len);
    }
    if (rc != PN_E_UNAVAILABLE)
        return rc;
    /* Remote provider: a small object from memory with a Content-Length, anything larger
     * streamed (the request holds at most what the kernel buffers for the client). */
    if (len <= (uint64_t)files_cfg.remote_buffer_max) {
        membuf_t m = {.cap = (size_t)len};
        m.buf = len ? pn_req_alloc(req, (size_t)len) : NULL;
        if (len && m.buf == NULL)
            return pn_fail(req, PN_E_INTERNAL, "out of memory");
        if (len && (rc = files_st->get(req, st, storage_key, off, len, to_mem, &m)) != PN_OK)
            return rc;
        if (m.len != len)
            return pn_fail(req, PN_E_INTERNAL, "short read from storage");
        return pn_host_->reply_raw(req, status, content_type, m.buf, m.len);
    }
    remote_dl_t d = {.off = off, .len = len};
    const char *sid = files_st->storage_id(st);
    if (!PN_HOST_HAS(pn_host_, reply_stream))
        return pn_fail(req, PN_E_UNAVAILABLE, "this server cannot stream remote objects");
    if (strlen(storage_key) >= sizeof d.key || (sid && strlen(sid) >= sizeof d.storage_id))
        return pn_fail(req, PN_E_INTERNAL, "storage key too long to stream");
    (void)snprintf(d.key, sizeof d.key, "%s", storage_key);
    (void)snprintf(d.storage_id, sizeof d.storage_id, "%s", sid ? sid : "");
    return pn_host_->reply_stream(req, status, content_type, remote_produce, &d, sizeof d);
}

/* A version row of a live file of this account. */
static json_t *
version_row(pn_req_t *req, const char *account, const char *file_id, const char *version_id)
{
    pn_rows_t *rows;

    if (!files_is_uuid(file_id) || (version_id && !files_is_uuid(version_id))) {
        pn_fail(req, PN_E_NOTFOUND, "file not found");
        return NULL;
    }
    int rc =
        pn_db_query(req, &rows,
                    "SELECT f.id, f.filename, f.parent_file_id, v.id AS version_id, v.storage_id, "
                    "v.storage_key, v.file_size, v.content_type FROM file_objects f "
                    "JOIN file_versions v ON "
                    "v.id = COALESCE($3::uuid, f.current_version_id) AND v.file_object_id = f.id "
                    "WHERE f.id = $1 AND f.account_id = $2 AND f.deleted_at IS NULL",
                    file_id, account, version_id);
    if (rc != PN_OK)
        return NULL;
    if (pn_rows_count(rows) == 0) {
        pn_fail(req, PN_E_NOTFOUND, version_id ? "version not found" : "file not found");
        return NULL;
    }
    return pn_host_->req_keep_json(req, files_row0(req, rows));
}

/*
 * Whether this request is a download worth counting: a whole GET asked for as an attachment.
 * An inline request is a preview (even when an active type is then sent as an attachment),
 * a range is a part of a download counted once, and a derivative (thumbnail, poster) is only
 * ever shown. A failed count never fails the download.
 */
static void
count_download(pn_req_t *req, json_t *v, const char *disposition)
{
    if (pn_host_->req_method(req) != PN_GET || pn_req_header(req, "Range") != NULL ||
        (disposition && strcmp(disposition, "inline") == 0) || files_str(v, "parent_file_id"))
        return;
    pn_db_query(req, NULL,
                "UPDATE file_objects SET download_count = download_count + 1, "
                "last_accessed_at = now() WHERE id = $1",
                files_str(v, "id"));
}

static int
serve_row(pn_req_t *req, const char *account, json_t *v, bool count)
{
    const char *disposition = pn_req_query(req, "disposition");

    if (count)
        count_download(req, v, disposition);
    return files_serve(req, account, files_str(v, "storage_id"), files_str(v, "storage_key"),
                       files_str(v, "version_id"),
                       (uint64_t)json_integer_value(json_object_get(v, "file_size")),
                       files_str(v, "content_type"), files_str(v, "filename"), disposition);
}

int
files_h_download(pn_req_t *req)
{
    const char *account = pn_host_->req_account_id(req);
    json_t *v = version_row(req, account, pn_req_param(req, "id"), NULL);

    return v ? serve_row(req, account, v, true) : PN_E_NOTFOUND;
}

int
files_h_version_download(pn_req_t *req)
{
    const char *account = pn_host_->req_account_id(req);
    json_t *v = version_row(req, account, pn_req_param(req, "id"), pn_req_param(req, "version_id"));

    return v ? serve_row(req, account, v, false) : PN_E_NOTFOUND;
}

/* GET /api/v1/files/:id/signed_url?expires_in=&disposition= */
int
files_h_signed_url(pn_req_t *req)
{
    const char *account = pn_host_->req_account_id(req);
    json_t *v = version_row(req, account, pn_req_param(req, "id"), NULL);
    const char *ttl_s = pn_req_query(req, "expires_in");
    const char *disp = pn_req_query(req, "disposition");
    char sig[65];
    long ttl = 3600;

    if (v == NULL)
        return PN_E_NOTFOUND;
    if (ttl_s) {
        char *end;
        ttl = strtol(ttl_s, &end, 10);
        if (*end || ttl < 1 || ttl > files_cfg.signed_url_max_ttl) {
            pn_fail_field(req, "expires_in", "must be 1 to %lld seconds",
                          (long long)files_cfg.signed_url_max_ttl);
            return pn_fail(req, PN_E_INVALID, "invalid expires_in");
        }
    }
    if (disp == NULL)
        disp = "attachment";
    if (strcmp(disp, "attachment") != 0 && strcmp(disp, "inline") != 0) {
        pn_fail_field(req, "disposition", "attachment or inline");
        return pn_fail(req, PN_E_INVALID, "invalid disposition");
    }
    int64_t exp = (int64_t)time(NULL) + ttl;
    const char *fid = files_str(v, "id"), *vid = files_str(v, "version_id");
    files_url_sign(files_cfg.sign_key, files_cfg.sign_keylen, "GET", fid, vid, exp, disp, sig);
    char *url = pn_req_printf(req,
                              "/api/v1/public/files/%s/download?v=%s&expires=%lld&disposition=%s"
                              "&signature=%s",
                              fid, vid, (long long)exp, disp, sig);
    return pn_reply_ok(
        req, json_pack("{s:s, s:I}", "url", url ? url : "", "expires_at", (json_int_t)exp));
}

/* GET /api/v1/public/files/:id/download?v=&expires=&disposition=&signature= (no login) */
int
files_h_signed_download(pn_req_t *req)
{
    const char *fid = pn_req_param(req, "id"), *vid = pn_req_query(req, "v");
    const char *exp_s = pn_req_query(req, "expires"), *disp = pn_req_query(req, "disposition");
    const char *sig = pn_req_query(req, "signature");
    char want[65];
    pn_rows_t *rows;

    if (!files_is_uuid(fid) || !files_is_uuid(vid) || exp_s == NULL || sig == NULL ||
        disp == NULL || strlen(exp_s) > 19)
        return pn_fail(req, PN_E_NOTFOUND, "not found");
    char *end;
    long long exp = strtoll(exp_s, &end, 10);
    if (*end || exp <= 0)
        return pn_fail(req, PN_E_NOTFOUND, "not found");
    /* GET and HEAD share the route; a HEAD may use a GET URL (it reveals no bytes). */
    files_url_sign(files_cfg.sign_key, files_cfg.sign_keylen, "GET", fid, vid, exp, disp, want);
    if (!files_ct_equal(want, sig))
        return pn_fail(req, PN_E_FORBIDDEN, "invalid signature");
    if (exp < (long long)time(NULL))
        return pn_fail(req, PN_E_GONE, "this link has expired");
    int rc = pn_db_query(req, &rows,
                         "SELECT f.id, f.account_id, f.filename, f.parent_file_id, "
                         "v.id AS version_id, v.storage_id, v.storage_key, v.file_size, "
                         "v.content_type, (v.id = f.current_version_id) AS current "
                         "FROM file_objects f "
                         "JOIN file_versions v ON v.file_object_id = f.id AND v.id = $2 "
                         "WHERE f.id = $1 AND f.deleted_at IS NULL",
                         fid, vid);
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "not found");
    json_t *v = pn_host_->req_keep_json(req, files_row0(req, rows));
    /* The UI's download button is a signed URL of the current version. */
    if (json_is_true(json_object_get(v, "current")))
        count_download(req, v, disp);
    return files_serve(req, files_str(v, "account_id"), files_str(v, "storage_id"),
                       files_str(v, "storage_key"), vid,
                       (uint64_t)json_integer_value(json_object_get(v, "file_size")),
                       files_str(v, "content_type"), files_str(v, "filename"), disp);
}
