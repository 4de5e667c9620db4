/*
 * Resumable uploads with the tus 1.0.0 protocol: core (HEAD, PATCH), creation, termination and
 * expiration. Each PATCH body is one request (bounded by the route's max_body). On local disk
 * it is written at its offset into one staging file acct/<account>/uploads/<upload>/data; its
 * writeback starts at once but is waited for lazily (see "durable offset" below); the last
 * chunk hashes that file (from the page cache) and publishes it as the blob by link + rename,
 * so each byte is written once. Remote
 * providers store each body as a staging object acct/<account>/uploads/<upload>/<n>, and the
 * last chunk assembles them into the final blob in bounded memory. Either way the file is
 * committed in one transaction.
 * The quota for the whole Upload-Length is reserved at creation and released on termination,
 * on expiry (by the sweeper) or turned into the file at the end.
 *
 * OPTIONS is answered by the kernel for every route, so discovery (Tus-Version, Tus-Extension,
 * Tus-Max-Size) rides on the creation and HEAD responses instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "files_crypto.h"
#include "files_http.h"
#include "files_names.h"
#include "files_sniff.h"

#define DB pn_host_

static void
tus_headers(pn_req_t *req)
{
    char max[24];

    (void)snprintf(max, sizeof max, "%lld", (long long)files_cfg.max_file_size);
    pn_reply_header(req, "Tus-Resumable", "1.0.0");
    pn_reply_header(req, "Tus-Version", "1.0.0");
    pn_reply_header(req, "Tus-Extension", "creation,termination,expiration");
    pn_reply_header(req, "Tus-Max-Size", max);
}

static int
check_version(pn_req_t *req)
{
    const char *v = pn_req_header(req, "Tus-Resumable");

    tus_headers(req);
    if (v == NULL || strcmp(v, "1.0.0") != 0)
        return pn_fail(req, PN_E_PRECONDITION, "Tus-Resumable: 1.0.0 is required");
    return PN_OK;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0' || strlen(s) > 19)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

static void
expires_header(pn_req_t *req, const char *epoch)
{
    char date[32];

    if (epoch) {
        files_http_date(atoll(epoch), date);
        pn_reply_header(req, "Upload-Expires", date);
    }
}

typedef struct {
    pn_req_t *req;
    json_t *opts;
    const char *bad;
} meta_t;

static int
on_meta(void *ud, const char *key, const char *val, size_t vlen)
{
    meta_t *m = ud;
    static const char *const known[] = {
        "filename", "filetype",   "category", "visibility",         "description",
        "tags",     "storage_id", "file_id",  "change_description", NULL};

    for (const char *const *k = known; *k; k++)
        if (strcmp(key, *k) == 0) {
            if (!files_utf8_ok(val, vlen) || vlen > 2000) {
                m->bad = key;
                return -1;
            }
            json_object_set_new(m->opts, key, json_stringn(val, vlen));
            return 0;
        }
    return 0; /* unknown keys are allowed by tus and ignored */
}

static int finalize(pn_req_t *req, json_t *up);

/* POST /api/v1/files/uploads */
int
files_h_tus_create(pn_req_t *req)
{
    const char *account = DB->req_account_id(req);
    uint64_t length;
    size_t blen;
    char upload_id[37], file_id[37], version_id[37], name[FILES_NAME_MAX + 1];
    pn_storage_t *st;
    int rc;

    if ((rc = check_version(req)) != PN_OK)
        return rc;
    DB->req_body(req, &blen);
    if (blen > 0)
        return pn_fail(req, PN_E_BADREQ, "creation-with-upload is not supported; send PATCH");
    if (pn_req_header(req, "Upload-Defer-Length"))
        return pn_fail(req, PN_E_BADREQ, "Upload-Defer-Length is not supported");
    if (!parse_u64(pn_req_header(req, "Upload-Length"), &length))
        return pn_fail(req, PN_E_BADREQ, "Upload-Length is required");
    if ((int64_t)length > files_cfg.max_file_size || length > INT64_MAX)
        return pn_fail(req, PN_E_TOOLARGE, "Upload-Length is over Tus-Max-Size");
    meta_t m = {req, DB->req_keep_json(req, json_object()), NULL};
    if (files_tus_metadata(pn_req_header(req, "Upload-Metadata"), on_meta, &m) != 0) {
        pn_fail_field(req, m.bad ? m.bad : "Upload-Metadata", "malformed value");
        return pn_fail(req, PN_E_BADREQ, "malformed Upload-Metadata");
    }
    const char *fn = files_str(m.opts, "filename");
    files_clean_filename(fn, fn ? strlen(fn) : 0, name);
    json_object_set_new(m.opts, "filename", json_string(name));
    const char *target = files_str(m.opts, "file_id");
    const char *storage_id = files_str(m.opts, "storage_id");
    const char *v;
    if ((v = files_str(m.opts, "category")) &&
        !(strcmp(v, "user_upload") == 0 || strcmp(v, "workflow_output") == 0 ||
          strcmp(v, "ai_generated") == 0 || strcmp(v, "temp") == 0 || strcmp(v, "system") == 0 ||
          strcmp(v, "import") == 0 || strcmp(v, "page_content") == 0))
        return pn_fail(req, PN_E_INVALID, "unknown category");
    if ((v = files_str(m.opts, "visibility")) &&
        !(strcmp(v, "private") == 0 || strcmp(v, "public") == 0 || strcmp(v, "shared") == 0 ||
          strcmp(v, "internal") == 0))
        return pn_fail(req, PN_E_INVALID, "unknown visibility");
    if ((v = files_str(m.opts, "tags"))) {
        json_t *tags = json_array();
        char tag[101], *s = DB->req_strdup(req, v);
        for (char *save = NULL, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (files_tag_name(t, tag) != 0 || json_array_size(tags) >= 20) {
                json_decref(tags);
                return pn_fail(req, PN_E_INVALID, "invalid tags");
            }
            json_array_append_new(tags, json_string(tag));
        }
        json_object_set_new(m.opts, "tag_list", tags);
    }
    if (target) {
        pn_rows_t *rows;
        if (!DB->req_can(req, "files.versions.create"))
            return pn_fail(req, PN_E_FORBIDDEN, "permission files.versions.create is required");
        if (!files_is_uuid(target))
            return pn_fail(req, PN_E_NOTFOUND, "file not found");
        rc = pn_db_query(req, &rows,
                         "SELECT storage_id FROM file_objects WHERE id = $1 AND account_id = $2 "
                         "AND deleted_at IS NULL",
                         target, account);
        if (rc != PN_OK)
            return rc;
        if (pn_rows_count(rows) == 0)
            return pn_fail(req, PN_E_NOTFOUND, "file not found");
        storage_id = pn_rows_value(rows, 0, 0);
    } else if (storage_id && !files_is_uuid(storage_id)) {
        return pn_fail(req, PN_E_NOTFOUND, "storage not found");
    }
    if ((rc = files_st->open(req, storage_id, &st)) != PN_OK)
        return rc;
    /* Fixed at creation: an upload keeps the staging it started with. */
    if (PN_STORAGE_HAS(files_st, publish) && strcmp(files_st->provider(st), "local") == 0)
        json_object_set_new(m.opts, "staging", json_string("file"));
    DB->uuid_v7(upload_id);
    DB->uuid_v7(version_id);
    if (target)
        (void)snprintf(file_id, sizeof file_id, "%s", target);
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
        .kind = "tus",
        .size = length,
        .expires_in_s = files_cfg.upload_expiry_s,
        .target_file_id = target,
        .options = m.opts,
    };
    if ((rc = files_reserve(req, &w)) != PN_OK)
        return rc;
    pn_rows_t *rows;
    rc = pn_db_query(req, &rows,
                     "SELECT id, account_id, user_id, storage_id, upload_length, upload_offset, "
                     "chunk_count, storage_key, file_id, version_id, target_file_id, options, "
                     "extract(epoch FROM expires_at)::bigint AS expires FROM file_uploads "
                     "WHERE id = $1",
                     upload_id);
    if (rc != PN_OK)
        return rc;
    json_t *up = DB->req_keep_json(req, files_row0(req, rows));
    char *loc = pn_req_printf(req, "/api/v1/files/uploads/%s", upload_id);
    pn_reply_header(req, "Location", loc);
    pn_reply_header(req, "Upload-Offset", "0");
    pn_reply_header(req, "X-File-Id", file_id);
    expires_header(
        req,
        pn_req_printf(req, "%lld", (long long)json_integer_value(json_object_get(up, "expires"))));
    if (length == 0) /* nothing to send: complete at creation */
        if ((rc = finalize(req, up)) != PN_OK)
            return rc;
    return pn_reply_created(req, json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", upload_id, "file_id",
                                           file_id, "location", loc, "upload_length",
                                           (json_int_t)length, "upload_offset", (json_int_t)0));
}

/*
 * Durable offset. On local disk a chunk's bytes are in the page cache when its offset is
 * recorded: they survive a crash of this process, not one of the OS. So each upload also keeps
 * options.durable_offset (everything before it was fdatasync'd) and options.boot_id (the OS
 * boot that acknowledged the offset). The sync is lazy: writeback of each chunk is started
 * when it is written, and the file is fdatasync'd before a chunk is written once SYNC_LAG
 * acknowledged bytes are unsynced (so the wait overlaps the next receive instead of adding to
 * every PATCH), and in full before publishing. After a reboot the upload is rolled back to
 * its durable offset, which is what HEAD then reports and where PATCH resumes.
 */
#define SYNC_LAG (64ull << 20)

static pthread_once_t boot_once = PTHREAD_ONCE_INIT;
static char boot_buf[40];

static void
read_boot_id(void)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

    if (f == NULL)
        return;
    if (fgets(boot_buf, sizeof boot_buf, f) == NULL)
        boot_buf[0] = '\0';
    boot_buf[strcspn(boot_buf, "\n")] = '\0';
    (void)fclose(f);
}

/* This boot's id, or "" when unknown (then every chunk is synced before it is recorded). */
static const char *
boot_id(void)
{
    pthread_once(&boot_once, read_boot_id);
    return boot_buf;
}

static uint64_t num(json_t *o, const char *k);

/* Rows from before lazy syncing (no durable_offset) synced every chunk. */
static uint64_t
durable_offset(json_t *up)
{
    json_t *d = json_object_get(json_object_get(up, "options"), "durable_offset");

    return json_is_integer(d) ? (uint64_t)json_integer_value(d) : num(up, "upload_offset");
}

static void
rollback_after_reboot(json_t *up)
{
    const char *b = files_str(json_object_get(up, "options"), "boot_id");
    uint64_t durable = durable_offset(up);

    if (b != NULL && strcmp(b, boot_id()) != 0 && durable < num(up, "upload_offset")) {
        PN_WARN("tus upload %s: acknowledged offset %llu was not synced before a reboot; "
                "resuming at %llu",
                files_str(up, "id"), (unsigned long long)num(up, "upload_offset"),
                (unsigned long long)durable);
        json_object_set_new(up, "upload_offset", json_integer((json_int_t)durable));
    }
}

/* The caller's live tus upload, optionally locked; NULL with the error set. */
static json_t *
load(pn_req_t *req, bool lock)
{
    const char *id = pn_req_param(req, "id");
    pn_rows_t *rows;
    const char *sql = lock ? "SELECT id, account_id, user_id, storage_id, upload_length, "
                             "upload_offset, chunk_count, storage_key, file_id, version_id, "
                             "target_file_id, options, extract(epoch FROM expires_at)::bigint "
                             "AS expires, expires_at <= now() AS expired FROM file_uploads "
                             "WHERE id = $1 AND account_id = $2 AND user_id = $3 AND kind = 'tus' "
                             "FOR UPDATE"
                           : "SELECT id, account_id, user_id, storage_id, upload_length, "
                             "upload_offset, chunk_count, storage_key, file_id, version_id, "
                             "target_file_id, options, extract(epoch FROM expires_at)::bigint "
                             "AS expires, expires_at <= now() AS expired FROM file_uploads "
                             "WHERE id = $1 AND account_id = $2 AND user_id = $3 AND kind = 'tus'";

    if (!files_is_uuid(id)) {
        pn_fail(req, PN_E_NOTFOUND, "upload not found");
        return NULL;
    }
    if (pn_db_query(req, &rows, sql, id, DB->req_account_id(req), DB->req_user_id(req)) != PN_OK)
        return NULL;
    if (pn_rows_count(rows) == 0) {
        pn_fail(req, PN_E_NOTFOUND, "upload not found");
        return NULL;
    }
    json_t *up = DB->req_keep_json(req, files_row0(req, rows));
    if (json_is_true(json_object_get(up, "expired"))) {
        pn_fail(req, PN_E_GONE, "this upload has expired");
        return NULL;
    }
    rollback_after_reboot(up);
    return up;
}

static uint64_t
num(json_t *o, const char *k)
{
    return (uint64_t)json_integer_value(json_object_get(o, k));
}

static void
offset_headers(pn_req_t *req, json_t *up, uint64_t offset)
{
    pn_reply_header(req, "Upload-Offset", pn_req_printf(req, "%llu", (unsigned long long)offset));
    pn_reply_header(req, "Upload-Length",
                    pn_req_printf(req, "%llu", (unsigned long long)num(up, "upload_length")));
    expires_header(req, pn_req_printf(req, "%llu", (unsigned long long)num(up, "expires")));
}

/* GET/HEAD /api/v1/files/uploads/:id */
int
files_h_tus_head(pn_req_t *req)
{
    json_t *up;

    tus_headers(req);
    if ((up = load(req, false)) == NULL)
        return PN_E_NOTFOUND;
    offset_headers(req, up, num(up, "upload_offset"));
    return pn_reply_ok(req, json_pack("{s:s, s:s, s:I, s:I, s:I}", "id", files_str(up, "id"),
                                      "file_id", files_str(up, "file_id"), "upload_length",
                                      (json_int_t)num(up, "upload_length"), "upload_offset",
                                      (json_int_t)num(up, "upload_offset"), "expires_at",
                                      (json_int_t)num(up, "expires")));
}

static const char *
chunk_key(pn_req_t *req, json_t *up, uint64_t n)
{
    return pn_req_printf(req, "acct/%s/uploads/%s/%llu", files_str(up, "account_id"),
                         files_str(up, "id"), (unsigned long long)n);
}

/* The one staging file of an upload written in place. */
static const char *
staging_key(pn_req_t *req, json_t *up)
{
    return pn_req_printf(req, "acct/%s/uploads/%s/data", files_str(up, "account_id"),
                         files_str(up, "id"));
}

static bool
in_place(json_t *up)
{
    const char *v = files_str(json_object_get(up, "options"), "staging");
    return v != NULL && strcmp(v, "file") == 0 && PN_STORAGE_HAS(files_st, publish);
}

/* Start writeback of [off, off+len) of the staging file without waiting for it (wait false),
 * or fdatasync all of it (wait true; the directory entry too, the first time). */
static int
staging_sync(pn_req_t *req, pn_storage_t *st, json_t *up, uint64_t off, uint64_t len, bool wait,
             bool first)
{
    uint64_t size;
    int fd, rc;

    if ((rc = files_st->open_fd(req, st, staging_key(req, up), &fd, &size)) != PN_OK)
        return wait ? rc : PN_OK;
    if (!wait) { /* only a head start for the later fdatasync: failure is harmless */
        (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
        close(fd);
        return PN_OK;
    }
    rc = fdatasync(fd) == 0
             ? PN_OK
             : pn_fail(req, PN_E_UNAVAILABLE, "fdatasync of the staging file: %s", strerror(errno));
    close(fd);
    /* The local write_at also syncs the directory that holds the file. */
    if (rc == PN_OK && first)
        rc = files_st->write_at(req, st, staging_key(req, up), 0, "", 0, true);
    return rc;
}

/* ---- assembly: the staging objects, read one after the other ---- */

typedef struct {
    pn_req_t *req;
    pn_storage_t *st;
    json_t *up;
    uint64_t nchunks, next;
    int fd;
    char *mem; /* remote providers: one chunk in memory */
    size_t memcap, memlen, mempos;
    bool have_mem;
    files_sha256_t *h;
    uint64_t total;
    unsigned char head[FILES_SNIFF_LEN];
    size_t headlen;
} asm_t;

static int
mem_sink(void *ud, const void *d, size_t n)
{
    asm_t *a = ud;

    if (n > a->memcap - a->memlen)
        return pn_fail(a->req, PN_E_INTERNAL, "staging object larger than a chunk");
    memcpy(a->mem + a->memlen, d, n);
    a->memlen += n;
    return PN_OK;
}

static int
open_next(asm_t *a)
{
    uint64_t size;
    const char *key = chunk_key(a->req, a->up, a->next++);
    int rc = files_st->open_fd(a->req, a->st, key, &a->fd, &size);

    if (rc == PN_OK)
        return PN_OK;
    a->fd = -1;
    if (rc != PN_E_UNAVAILABLE)
        return rc;
    if (a->mem == NULL) {
        a->memcap = (size_t)files_cfg.chunk_max_body;
        if ((a->mem = pn_req_alloc(a->req, a->memcap)) == NULL)
            return pn_fail(a->req, PN_E_INTERNAL, "out of memory");
    }
    a->memlen = a->mempos = 0;
    a->have_mem = true;
    return files_st->get(a->req, a->st, key, 0, 0, mem_sink, a);
}

static void
account_bytes(asm_t *a, const void *buf, size_t n)
{
    files_sha256_update(a->h, buf, n);
    if (a->headlen < sizeof a->head) {
        size_t k = n < sizeof a->head - a->headlen ? n : sizeof a->head - a->headlen;
        memcpy(a->head + a->headlen, buf, k);
        a->headlen += k;
    }
    a->total += n;
}

static int
asm_read(void *ud, void *buf, size_t cap, size_t *got)
{
    asm_t *a = ud;
    int rc;

    *got = 0;
    for (;;) {
        if (a->fd >= 0) {
            ssize_t n = read(a->fd, buf, cap);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return pn_fail(a->req, PN_E_INTERNAL, "reading a staging object failed");
            if (n > 0) {
                account_bytes(a, buf, (size_t)n);
                *got = (size_t)n;
                return PN_OK;
            }
            close(a->fd);
            a->fd = -1;
        } else if (a->have_mem) {
            if (a->mempos < a->memlen) {
                size_t n = a->memlen - a->mempos < cap ? a->memlen - a->mempos : cap;
                memcpy(buf, a->mem + a->mempos, n);
                a->mempos += n;
                account_bytes(a, buf, n);
                *got = n;
                return PN_OK;
            }
            a->have_mem = false;
        }
        if (a->next == a->nchunks)
            return PN_OK; /* end of data */
        if ((rc = open_next(a)) != PN_OK)
            return rc;
    }
}

static void
remove_chunks(pn_req_t *req, pn_storage_t *st, json_t *up, uint64_t upto)
{
    if (in_place(up)) {
        files_st->remove(req, st, staging_key(req, up));
        return;
    }
    for (uint64_t i = 0; i < upto; i++)
        files_st->remove(req, st, chunk_key(req, up, i));
}

/* In place: hash and sniff the staging file, then publish it under the final key. */
static int
publish_staged(pn_req_t *req, pn_storage_t *st, json_t *up, const char *key,
               const char *content_type, asm_t *a)
{
    uint64_t size = 0;
    int fd, rc;
    char *buf;

    /* An empty upload completes at creation, before any PATCH made the file. */
    if (num(up, "upload_length") == 0 &&
        (rc = files_st->write_at(req, st, staging_key(req, up), 0, "", 0, true)) != PN_OK)
        return rc;
    if ((rc = files_st->open_fd(req, st, staging_key(req, up), &fd, &size)) != PN_OK)
        return rc;
    if (size != num(up, "upload_length")) {
        close(fd);
        return pn_fail(req, PN_E_INTERNAL, "staged %llu bytes, expected %llu",
                       (unsigned long long)size, (unsigned long long)num(up, "upload_length"));
    }
    if ((buf = malloc(1 << 20)) == NULL) {
        close(fd);
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    }
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = pn_fail(req, PN_E_INTERNAL, "reading the staging file failed");
            break;
        }
        if (n == 0)
            break;
        account_bytes(a, buf, (size_t)n);
    }
    free(buf);
    close(fd);
    if (rc == PN_OK && a->total != size)
        rc = pn_fail(req, PN_E_INTERNAL, "the staging file changed while it was read");
    return rc == PN_OK ? files_st->publish(req, st, staging_key(req, up), key, content_type) : rc;
}

/* Assemble and commit. The upload row stays until the commit deletes it, so a failure here
 * can be retried with an empty PATCH at the final offset. */
static int
finalize(pn_req_t *req, json_t *up)
{
    pn_storage_t *st;
    json_t *opts = json_object_get(up, "options"), *jobs = NULL;
    char sha[65], ctype[128];
    int rc;

    if ((rc = files_st->open(req, files_str(up, "storage_id"), &st)) != PN_OK)
        return rc;
    asm_t a = {.req = req, .st = st, .up = up, .nchunks = num(up, "chunk_count"), .fd = -1};
    if ((a.h = files_sha256_new()) == NULL)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    const char *key = files_str(up, "storage_key");
    const char *sniffed = files_str(opts, "content_type");
    if (in_place(up))
        rc = publish_staged(req, st, up, key, sniffed ? sniffed : "application/octet-stream", &a);
    else
        rc = files_st->put(req, st, key, asm_read, &a, num(up, "upload_length"),
                           sniffed ? sniffed : "application/octet-stream");
    if (a.fd >= 0)
        close(a.fd);
    if (rc == PN_OK && a.total != num(up, "upload_length")) {
        files_st->remove(req, st, key);
        rc = pn_fail(req, PN_E_INTERNAL, "assembled %llu bytes, expected %llu",
                     (unsigned long long)a.total, (unsigned long long)num(up, "upload_length"));
    }
    if (rc != PN_OK) {
        files_sha256_free(a.h);
        return rc;
    }
    files_sha256_final(a.h, sha);
    (void)snprintf(ctype, sizeof ctype, "%s", files_sniff(a.head, a.headlen, a.total == a.headlen));
    files_write_t w = {
        .account_id = files_str(up, "account_id"),
        .user_id = files_str(up, "user_id"),
        .upload_id = files_str(up, "id"),
        .storage_id = files_str(up, "storage_id"),
        .storage_key = key,
        .file_id = files_str(up, "file_id"),
        .version_id = files_str(up, "version_id"),
        .kind = "tus",
        .size = a.total,
        .target_file_id = files_str(up, "target_file_id"),
    };
    files_meta_t m = {
        .filename = files_str(opts, "filename"),
        .content_type = ctype,
        .sha256 = sha,
        .category = files_str(opts, "category"),
        .visibility = files_str(opts, "visibility"),
        .description = files_str(opts, "description"),
        .change_description = files_str(opts, "change_description"),
        .tags = json_object_get(opts, "tag_list"),
    };
    if ((rc = files_commit(req, &w, &m, &jobs)) != PN_OK) {
        files_st->remove(req, st, key);
        return rc;
    }
    remove_chunks(req, st, up, a.nchunks + 1);
    files_push_jobs(req, jobs);
    json_decref(jobs);
    DB->event_publish(req, FILES_CHANNEL,
                      w.target_file_id ? "file.version_created" : "file.uploaded",
                      json_pack("{s:s, s:s, s:s, s:I}", "id", w.file_id, "version_id", w.version_id,
                                "content_type", ctype, "size", (json_int_t)a.total));
    PN_INFO("tus upload complete upload=%s file=%s size=%llu", w.upload_id, w.file_id,
            (unsigned long long)a.total);
    pn_reply_header(req, "X-File-Id", w.file_id);
    return PN_OK;
}

/* PATCH /api/v1/files/uploads/:id */
int
files_h_tus_patch(pn_req_t *req)
{
    const char *ct = pn_req_header(req, "Content-Type");
    uint64_t offset;
    size_t len;
    const char *body = DB->req_body(req, &len);
    pn_storage_t *st;
    json_t *up;
    int rc;

    if ((rc = check_version(req)) != PN_OK)
        return rc;
    if (ct == NULL || strcasecmp(ct, "application/offset+octet-stream") != 0)
        return pn_fail(req, PN_E_MEDIATYPE, "Content-Type must be application/offset+octet-stream");
    if (!parse_u64(pn_req_header(req, "Upload-Offset"), &offset))
        return pn_fail(req, PN_E_BADREQ, "Upload-Offset is required");
    if ((rc = DB->db_begin(req)) != PN_OK)
        return rc;
    /* The row lock serialises PATCHes of one upload: a second one waits, then sees the new
     * offset and gets 409. */
    if ((up = load(req, true)) == NULL) {
        DB->db_rollback(req);
        return PN_E_NOTFOUND;
    }
    uint64_t cur = num(up, "upload_offset"), length = num(up, "upload_length");
    uint64_t chunks = num(up, "chunk_count");
    offset_headers(req, up, cur);
    if (offset != cur) {
        DB->db_rollback(req);
        return pn_fail(req, PN_E_CONFLICT, "Upload-Offset %llu does not match the upload's %llu",
                       (unsigned long long)offset, (unsigned long long)cur);
    }
    if (len > length - cur) {
        DB->db_rollback(req);
        return pn_fail(req, PN_E_TOOLARGE, "the chunk goes past Upload-Length");
    }
    if (len > 0) {
        if ((rc = files_st->open(req, files_str(up, "storage_id"), &st)) != PN_OK) {
            DB->db_rollback(req);
            return rc;
        }
        files_seg_t seg = {body, len};
        files_memsrc_t src = {.segs = &seg, .nsegs = 1};
        json_t *o = json_object_get(up, "options");
        bool lazy = in_place(up) && boot_id()[0] != '\0';
        uint64_t durable = durable_offset(up);
        /* Without lazy syncing a chunk is synced before its offset is recorded. With it, the
         * chunks before this one are, once SYNC_LAG bytes wait (their writeback began when
         * they were written); this one follows later (see "durable offset"). */
        if (lazy && cur - durable >= SYNC_LAG) {
            if ((rc = staging_sync(req, st, up, 0, 0, true, durable == 0)) != PN_OK) {
                DB->db_rollback(req);
                return rc;
            }
            durable = cur;
        }
        if (in_place(up))
            rc = files_st->write_at(req, st, staging_key(req, up), cur, body, len, !lazy);
        else
            rc = files_st->put(req, st, chunk_key(req, up, chunks), files_memsrc_read, &src, len,
                               "application/octet-stream");
        if (rc != PN_OK) {
            DB->db_rollback(req);
            return rc;
        }
        if (lazy)
            staging_sync(req, st, up, cur, len, false, false);
        else
            durable = cur + len;
        if (cur == 0) /* the first bytes decide the type the final blob is written with */
            json_object_set_new(
                o, "content_type",
                json_string(files_sniff((const unsigned char *)body, len, len == length)));
        json_object_set_new(o, "durable_offset", json_integer((json_int_t)durable));
        json_object_set_new(o, "boot_id", json_string(boot_id()));
        char *d = json_dumps(o, JSON_COMPACT);
        char *opts_sql = d ? DB->req_strdup(req, d) : NULL;
        free(d);
        if (opts_sql == NULL) {
            DB->db_rollback(req);
            return pn_fail(req, PN_E_INTERNAL, "out of memory");
        }
        /* Absolute: after a reboot the row's offset was rolled back to the durable one. */
        rc = pn_db_query(req, NULL,
                         "UPDATE file_uploads SET upload_offset = $2::bigint, "
                         "chunk_count = chunk_count + 1, options = $3::jsonb, "
                         "updated_at = now() WHERE id = $1",
                         files_str(up, "id"),
                         pn_req_printf(req, "%llu", (unsigned long long)(cur + len)), opts_sql);
        if (rc != PN_OK) {
            DB->db_rollback(req);
            return rc;
        }
        cur += len;
        json_object_set_new(up, "upload_offset", json_integer((json_int_t)cur));
        json_object_set_new(up, "chunk_count", json_integer((json_int_t)chunks + 1));
    }
    if ((rc = DB->db_commit(req)) != PN_OK)
        return rc;
    offset_headers(req, up, cur);
    /* The last chunk, or an empty PATCH at the end (a retry after a failed assembly). */
    if (cur == length && (rc = finalize(req, up)) != PN_OK)
        return rc;
    return DB->reply_raw(req, 204, NULL, NULL, 0);
}

/* DELETE /api/v1/files/uploads/:id (termination) */
int
files_h_tus_delete(pn_req_t *req)
{
    pn_storage_t *st;
    json_t *up;
    int rc;

    if ((rc = check_version(req)) != PN_OK)
        return rc;
    if ((up = load(req, false)) == NULL)
        return PN_E_NOTFOUND;
    if ((rc = files_release(req, files_str(up, "account_id"), files_str(up, "id"))) != PN_OK)
        return rc;
    if (files_st->open(req, files_str(up, "storage_id"), &st) == PN_OK)
        remove_chunks(req, st, up, num(up, "chunk_count") + 1);
    return DB->reply_raw(req, 204, NULL, NULL, 0);
}
