/* The four processing jobs as seen by the server: fetch the processing job, mark it
 * processing, download the file into the attempt's private directory, process it (media.h),
 * upload derivatives, merge metadata, and complete or fail the job with a clear message. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "files.h"
#include "media.h"

static const char *const limit_keys[] = {
    "max_pixels",  "max_side",         "max_frames",    "max_image_bytes", "max_av_bytes",
    "max_streams", "av_deadline",      "probesize",     "analyzeduration", "max_metadata_bytes",
    "quality",     "thumbnail_format", "max_pdf_bytes", "vips_modules",    "vips_module_dir"};

int
fj_init(const pn_job_host_t *host)
{
    char err[FM_ERRLEN];
    /* libvips and FFmpeg are loaded by the first job that needs them (backend_load.c). */
    if (fb_setup(err, sizeof err)) {
        host->log(NULL, PN_JOB_LOG_ERROR, "files: %s", err);
        return -1;
    }
    return 0;
}

void
fj_fini(void)
{
    fb_shutdown();
}

/* job_plugins.files.<key>; a bad value fails the job rather than guessing. */
static int
limits(pn_job_t *job, fm_limits_t *l)
{
    char err[FM_ERRLEN];
    fm_limits_default(l);
    for (size_t i = 0; i < sizeof limit_keys / sizeof limit_keys[0]; i++) {
        const char *v = pn_job_config(job, limit_keys[i]);
        if (v && fm_limits_set(l, limit_keys[i], v, err, sizeof err)) {
            pn_job_fail(job, "job_plugins.files.%s", err);
            return -1;
        }
    }
    return 0;
}

/* Ids longer than this are refused by uuid_like before any path is built from them, so the
 * API paths below always fit their buffers (ID_PATH). */
#define ID_MAX 64
#define ID_PATH (sizeof "/api/v1/worker/processing_jobs/" + ID_MAX)
_Static_assert(sizeof "/api/v1/worker/files//download" + ID_MAX <= ID_PATH, "ID_PATH too small");

static bool
uuid_like(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F') || s[i] == '-'))
            return false;
    return true;
}

static const json_t *
data_of(const pn_job_response_t *r)
{
    return json_object_get(r->body, "data");
}

/* One JSON call; 0 on 2xx, else the job result to return (reason set). */
static int
call(pn_job_t *job, const char *method, const char *path, const json_t *body,
     pn_job_response_t *res)
{
    *res = (pn_job_response_t){0};
    if (pn_job_api(job, method, path, body, NULL, res) != 0) {
        pn_job_fail(job, "%s %s: no answer (status %ld)", method, path, res->status);
        return PN_JOB_API_ERROR;
    }
    if (res->status >= 200 && res->status < 300)
        return 0;
    const char *why = json_string_value(json_object_get(res->body, "error"));
    pn_job_fail(job, "%s %s: %ld %s", method, path, res->status, why ? why : "");
    /* 404: the file or job is gone; other 4xx: our request is wrong and retrying won't help. */
    return res->status >= 400 && res->status < 500 && res->status != 408 && res->status != 429
               ? PN_JOB_DEAD
               : PN_JOB_API_ERROR;
}

/* A GET whose answer the caller reads: 0 with res->body (the caller's), or the job result with
 * nothing left to free. */
static int
get(pn_job_t *job, const char *path, pn_job_response_t *res)
{
    int rc = call(job, "GET", path, NULL, res);
    if (rc) {
        json_decref(res->body);
        res->body = NULL;
    }
    return rc;
}

static int
set_status(pn_job_t *job, const char *id, const char *status, json_t *result, json_t *error)
{
    char path[ID_PATH];
    pn_job_response_t res;
    (void)snprintf(path, sizeof path, "/api/v1/worker/processing_jobs/%s", id);
    json_t *b = json_pack("{s:s}", "status", status);
    if (result)
        json_object_set(b, "result_data", result);
    if (error)
        json_object_set(b, "error_details", error);
    int rc = call(job, "PATCH", path, b, &res);
    json_decref(b);
    json_decref(res.body);
    return rc;
}

/* The file's content into dest, at most max bytes. The host table member is checked at run
 * time: a worker older than this plugin may lack it. 0, or the job result. */
static int
download(pn_job_t *job, const char *file_id, const char *dest, uint64_t max)
{
    char path[ID_PATH];
    pn_job_response_t res = {0};
    (void)snprintf(path, sizeof path, "/api/v1/worker/files/%s/download", file_id);
    if (!PN_JOB_HOST_HAS(pn_job_host_, api_download)) {
        pn_job_fail(job, "this worker has no api_download in its job SDK");
        return PN_JOB_ERROR;
    }
    int rc = pn_job_host_->api_download(job, path, dest, max, &res);
    json_decref(res.body);
    if (rc != 0 || res.status != 200) {
        pn_job_fail(job, "GET %s: %ld", path, res.status);
        return res.status == 404 ? PN_JOB_DEAD : PN_JOB_API_ERROR;
    }
    return 0;
}

static int
upload(pn_job_t *job, const char *file_id, const char *kind, const char *name, const char *src,
       const char *mime)
{
    char path[256];
    pn_job_response_t res = {0};
    if (snprintf(path, sizeof path, "/api/v1/worker/files/%s/derivatives?kind=%s&name=%s", file_id,
                 kind, name) >= (int)sizeof path) {
        pn_job_fail(job, "derivative URL too long for %s", name);
        return PN_JOB_ERROR;
    }
    if (!PN_JOB_HOST_HAS(pn_job_host_, api_upload)) {
        pn_job_fail(job, "this worker has no api_upload in its job SDK");
        return PN_JOB_ERROR;
    }
    int rc = pn_job_host_->api_upload(job, path, src, mime, NULL, &res);
    json_decref(res.body);
    if (rc != 0 || res.status < 200 || res.status >= 300) {
        pn_job_fail(job, "POST %s: %ld", path, res.status);
        return PN_JOB_API_ERROR;
    }
    return 0;
}

/* Only the sizes the job asked for ({"sizes": ["small", ...]}); all when it names none. */
static bool
wanted(const json_t *params, const char *size)
{
    const json_t *sizes = json_object_get(params, "sizes"), *v;
    size_t i;
    if (!json_is_array(sizes) || json_array_size(sizes) == 0)
        return true;
    json_array_foreach(sizes, i,
                       v) if (json_is_string(v) && !strcmp(json_string_value(v), size)) return true;
    return false;
}

/* name inside this attempt's workdir, which is created only now: a metadata job that reads
 * the head in memory never makes one. 0, or the job result with the reason on the job. */
static int
work_path(pn_job_t *job, const char *name, char *out, size_t cap)
{
    const char *dir = pn_job_workdir(job);
    if (!dir) {
        pn_job_fail(job, "no work directory");
        return PN_JOB_ERROR;
    }
    if (snprintf(out, cap, "%s/%s", dir, name) >= (int)cap) {
        pn_job_fail(job, "path too long in the work directory: %s", name);
        return PN_JOB_ERROR;
    }
    return 0;
}

/* n bytes of p as a new file in the workdir (what = its name in the failure). 0, or the job
 * result. */
static int
write_file(pn_job_t *job, const char *path, const void *p, size_t n, const char *what)
{
    FILE *f = fopen(path, "wbx");
    bool ok = f && fwrite(p, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        pn_job_fail(job, "cannot write %s in the work directory", what);
        return PN_JOB_ERROR;
    }
    return 0;
}

static int
deliver(pn_job_t *job, const char *file_id, const fm_output_t *o, const fm_limits_t *l,
        const json_t *params)
{
    for (int i = 0; i < FM_NSIZES; i++) {
        if (!o->thumbs[i].data || !wanted(params, fm_size_names[i]))
            continue;
        char name[64], file[96], src[PATH_MAX];
        (void)snprintf(name, sizeof name, "%s.%s", fm_size_names[i], fm_thumb_ext(l));
        (void)snprintf(file, sizeof file, "%s-%s", o->derivative_kind, name);
        int rc;
        if ((rc = work_path(job, file, src, sizeof src)) ||
            (rc = write_file(job, src, o->thumbs[i].data, o->thumbs[i].len, name)) ||
            (rc = upload(job, file_id, o->derivative_kind, name, src, fm_thumb_mime(l))))
            return rc;
    }
    if (o->file_patch && json_object_size(o->file_patch)) {
        char path[ID_PATH];
        pn_job_response_t res;
        (void)snprintf(path, sizeof path, "/api/v1/worker/files/%s", file_id);
        int rc = call(job, "PATCH", path, o->file_patch, &res);
        json_decref(res.body);
        if (rc)
            return rc;
    }
    return 0;
}

/* The first FM_META_HEAD_BYTES of the content into p (*n bytes): a Range request answered into
 * memory. 0, or the job result. */
static int
read_head(pn_job_t *job, const char *file_id, uint8_t *p, size_t *n)
{
    char path[ID_PATH];
    pn_job_response_t res = {0};
    (void)snprintf(path, sizeof path, "/api/v1/worker/files/%s/download", file_id);
    int rc = pn_job_api_read_head(job, path, p, FM_META_HEAD_BYTES, n, &res);
    json_decref(res.body);
    if (rc != 0 || (res.status != 200 && res.status != 206)) {
        pn_job_fail(job, "GET %s (head): %ld", path, res.status);
        return res.status == 404 ? PN_JOB_DEAD : PN_JOB_API_ERROR;
    }
    return 0;
}

/*
 * A metadata job reads only what it needs: the file's record (its size, and the SHA-256 the
 * server computed while the upload streamed in), then the first FM_META_HEAD_BYTES into memory,
 * and the whole content only when the header is not enough (PDF, audio/video, image formats the
 * header reader leaves to libvips) or the server has no checksum. A JPEG's facts cost one
 * 128 KiB range, no file and no work directory, instead of a full copy and a second hash of
 * every byte.
 * 0 with *doc; -1 or FM_EBACKEND with err (the file's fault, the worker's); or a job result
 * (> 0) when a call to the server failed.
 */
static int
metadata_doc(pn_job_t *job, const char *file_id, const fm_limits_t *l, json_t **doc, char *err,
             size_t errlen)
{
    char path[ID_PATH], sha[65] = "", input[PATH_MAX];
    pn_job_response_t res;
    (void)snprintf(path, sizeof path, "/api/v1/worker/files/%s", file_id);
    int rc = get(job, path, &res);
    if (rc)
        return rc;
    const json_t *rec = data_of(&res), *fsize = json_object_get(rec, "file_size");
    const char *cs = json_string_value(json_object_get(rec, "checksum_sha256"));
    if (cs && strlen(cs) == 64)
        memcpy(sha, cs, 65);
    json_int_t size = json_is_integer(fsize) ? json_integer_value(fsize) : -1;
    json_decref(res.body);
    /* A worker older than this plugin may lack api_read_head: then the whole content. */
    uint8_t *head = NULL;
    size_t n = 0;
    if (size > 0 && PN_JOB_HOST_HAS(pn_job_host_, api_read_head)) {
        if (!(head = malloc(FM_META_HEAD_BYTES))) {
            pn_job_fail(job, "out of memory");
            return PN_JOB_ERROR;
        }
        /* read_head gives a job result, fm_metadata_head 1 (done), 0 (not enough) or -1. */
        int got = (rc = read_head(job, file_id, head, &n))
                      ? 0
                      : fm_metadata_head(head, n, (uint64_t)size, sha[0] ? sha : NULL, l, doc, err,
                                         errlen);
        if (rc || got) {
            free(head);
            if (got == 1)
                pn_job_count(job, "files.metadata_head_only", 1);
            return rc ? rc : got == 1 ? 0 : -1;
        }
    }
    /* Counted, so an operator sees how often a whole file had to be fetched. A file no larger
     * than the head was all in it: not fetched twice. */
    bool all = head && (uint64_t)size == n;
    pn_job_count(job, all ? "files.metadata_head_only" : "files.metadata_whole_file", 1);
    if (!(rc = work_path(job, "input", input, sizeof input)))
        rc = all ? write_file(job, input, head, n, "the input")
                 : download(job, file_id, input, l->max_av_bytes);
    free(head);
    return rc ? rc : fm_metadata_file(input, sha[0] ? sha : NULL, l, doc, err, errlen);
}

/* Fetch what the job reads and process it: 0 with o; -1 or FM_EBACKEND with err; or a job
 * result (> 0) when a call to the server failed. */
static int
produce(pn_job_t *job, fm_kind_t kind, const char *file_id, const fm_limits_t *l, fm_output_t *o,
        char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (kind == FM_METADATA) {
        json_t *doc = NULL;
        int rc = metadata_doc(job, file_id, l, &doc, err, errlen);
        if (rc == 0)
            fm_metadata_output(doc, o);
        return rc;
    }
    char input[PATH_MAX];
    int rc = work_path(job, "input", input, sizeof input);
    if (!rc)
        rc = download(job, file_id, input,
                      kind == FM_THUMBNAIL ? l->max_image_bytes : l->max_av_bytes);
    return rc ? rc : fm_process(kind, input, l, o, err, errlen);
}

static int
run(pn_job_t *job, const json_t *args, fm_kind_t kind)
{
    const char *id = json_string_value(json_array_get(args, 0));
    fm_limits_t l;
    if (!uuid_like(id)) {
        pn_job_fail(job, "argument 1 must be a processing job id");
        return PN_JOB_DEAD;
    }
    if (limits(job, &l))
        return PN_JOB_DEAD;
    char path[ID_PATH];
    pn_job_response_t res;
    (void)snprintf(path, sizeof path, "/api/v1/worker/processing_jobs/%s", id);
    int rc = get(job, path, &res);
    if (rc)
        return rc;
    const json_t *pj = data_of(&res);
    const char *status = json_string_value(json_object_get(pj, "status"));
    const char *fid = json_string_value(json_object_get(pj, "file_object_id"));
    char file_id[ID_MAX + 1];
    json_t *params = json_incref(json_object_get(pj, "job_parameters"));
    /* A cut id is not a file id: left empty, it fails uuid_like below. */
    if (snprintf(file_id, sizeof file_id, "%s", fid ? fid : "") >= (int)sizeof file_id)
        file_id[0] = '\0';
    bool done = status && (!strcmp(status, "completed") || !strcmp(status, "failed"));
    json_decref(res.body);
    if (done) { /* delivered twice (at-least-once): the first run finished it */
        json_decref(params);
        return PN_JOB_OK;
    }
    if (!uuid_like(file_id)) {
        json_decref(params);
        pn_job_fail(job, "processing job %s names no file", id);
        return PN_JOB_DEAD;
    }
    if ((rc = set_status(job, id, "processing", NULL, NULL))) {
        json_decref(params);
        return rc;
    }
    fm_output_t o;
    char err[FM_ERRLEN];
    rc = produce(job, kind, file_id, &l, &o, err, sizeof err);
    if (rc > 0) { /* the server did not answer as it should: reason already on the job */
        json_decref(params);
        return rc;
    }
    if (rc == FM_EBACKEND) { /* the worker's install, not the file: retried */
        json_decref(params);
        pn_job_fail(job, "%s", err);
        return PN_JOB_ERROR;
    }
    if (rc != 0) {
        /* The file is bad, not the worker: the job fails for good with the reason on it. */
        json_t *e = json_pack("{s:s}", "message", err);
        rc = set_status(job, id, "failed", NULL, e);
        json_decref(e);
        json_decref(params);
        pn_job_count(job, "files.rejected", 1);
        if (rc)
            return rc;
        pn_job_fail(job, "%s", err);
        return PN_JOB_DEAD;
    }
    rc = deliver(job, file_id, &o, &l, params);
    if (rc == 0)
        rc = set_status(job, id, "completed", o.result, NULL);
    fm_output_clear(&o);
    json_decref(params);
    return rc ? rc : PN_JOB_OK;
}

int
fj_thumbnail(pn_job_t *job, const json_t *args)
{
    return run(job, args, FM_THUMBNAIL);
}

int
fj_metadata(pn_job_t *job, const json_t *args)
{
    return run(job, args, FM_METADATA);
}

int
fj_video(pn_job_t *job, const json_t *args)
{
    return run(job, args, FM_VIDEO);
}

int
fj_audio(pn_job_t *job, const json_t *args)
{
    return run(job, args, FM_AUDIO);
}
