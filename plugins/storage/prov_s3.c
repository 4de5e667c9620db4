/*
 * S3 and S3-compatible storage, and Google Cloud Storage through its XML API with HMAC keys
 * (the same protocol with GOOG4 signing). Requests are signed by our own SigV4 signer (the one
 * presigned URLs need anyway); puts are buffered one part at a time: an object that fits in
 * one part is a single PUT, a larger one a multipart upload, aborted on any failure.
 */
#include "st_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARTS 10000

typedef struct s3 {
    st_backend_t base;
    st_http_t http;
    st_endpoint_t ep;
    bool gcs;
    bool path_style;
    char bucket[64];
    char region[40];
    char prefix[256]; /* "" or "dir/sub/" */
    char sse[16];     /* "" or "AES256" */
    char *access_key;
    char *secret;
    st_sigv4_t sig;
} s3_t;

static const char empty_sha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/* Host header and the path (canonical URI) of the bucket or of one object. */
static void
target(const s3_t *s, const char *key, char *host, size_t hn, st_buf_t *uri)
{
    char hp[300];
    int n;
    st_endpoint_hostport(&s->ep, hp, sizeof hp);
    if (s->path_style) {
        n = snprintf(host, hn, "%s", hp);
        st_buf_printf(uri, "%s/%s", s->ep.path, s->bucket);
        if (key != NULL)
            st_buf_add(uri, "/", 1);
    } else {
        n = snprintf(host, hn, "%s.%s", s->bucket, hp);
        st_buf_printf(uri, "%s/", s->ep.path);
    }
    /* A host that does not fit is left empty: the request then fails to sign and connect
     * rather than going to a truncated name. */
    if (n < 0 || (size_t)n >= hn)
        host[0] = '\0';
    if (key != NULL) {
        st_uri_encode(uri, s->prefix, true);
        st_uri_encode(uri, key, true);
    }
}

typedef struct s3_call {
    const char *method;
    const char *key; /* NULL: the bucket */
    const st_kv_t *params;
    size_t nparams;
    const char *content_type;
    const char *range; /* "bytes=a-b" or NULL */
    bool sse;
    const void *body;
    size_t body_len;
    pn_storage_sink_fn sink;
    void *ud;
} s3_call_t;

static int
s3_do(s3_t *s, const s3_call_t *c, st_http_req_t *r, st_err_t *err)
{
    char host[320], date[17], hash[65];
    st_buf_t uri = {0}, url = {0};
    char *auth = NULL, *query = NULL;
    struct curl_slist *h = NULL;
    int rc = PN_E_INTERNAL;
    const char *pfx = s->gcs && s->sig.goog ? "x-goog-" : "x-amz-";
    char n_date[32], n_sha[40], n_sse[48];

    target(s, c->key, host, sizeof host, &uri);
    st_sigv4_date(time(NULL), date);
    if (c->body_len > 0)
        st_sha256_hex(c->body, c->body_len, hash);
    else
        memcpy(hash, empty_sha256, sizeof empty_sha256);
    (void)snprintf(n_date, sizeof n_date, "%sdate", pfx);
    (void)snprintf(n_sha, sizeof n_sha, "%scontent-sha256", pfx);
    (void)snprintf(n_sse, sizeof n_sse, "%sserver-side-encryption", pfx);
    st_kv_t sh[3] = {{n_date, date}, {n_sha, hash}, {n_sse, s->sse}};
    size_t nsh = c->sse && s->sse[0] ? 3 : 2;

    query = c->nparams ? st_canonical_query(c->params, c->nparams) : strdup("");
    if (uri.oom || query == NULL)
        goto out;
    auth = st_sigv4_authorization(&s->sig, c->method, host, uri.s, c->params, c->nparams, sh, nsh,
                                  hash, date);
    if (auth == NULL)
        goto out;
    st_buf_printf(&url, "%s://%s%s%s%s", s->ep.scheme, host, uri.s, query[0] ? "?" : "", query);

    st_buf_t line = {0};
    st_buf_printf(&line, "Authorization: %s", auth);
    h = curl_slist_append(h, line.s ? line.s : "");
    st_buf_free(&line);
    for (size_t i = 0; i < nsh; i++) {
        st_buf_printf(&line, "%s: %s", sh[i].k, sh[i].v);
        h = curl_slist_append(h, line.s ? line.s : "");
        st_buf_free(&line);
    }
    if (c->content_type != NULL && c->content_type[0]) {
        st_buf_printf(&line, "Content-Type: %s", c->content_type);
        h = curl_slist_append(h, line.s ? line.s : "");
        st_buf_free(&line);
    } else if (c->body != NULL || strcmp(c->method, "PUT") == 0 || strcmp(c->method, "POST") == 0) {
        h = curl_slist_append(h, "Content-Type:"); /* none rather than curl's form type */
    }
    if (c->range != NULL) {
        st_buf_printf(&line, "Range: %s", c->range);
        h = curl_slist_append(h, line.s ? line.s : "");
        st_buf_free(&line);
    }
    if (url.oom || h == NULL)
        goto out;

    r->method = c->method;
    r->url = url.s;
    r->headers = h;
    r->body = c->body;
    r->body_len = c->body_len;
    r->sink = c->sink;
    r->sink_ud = c->ud;
    rc = st_http_do(&s->http, r, err);
    h = r->headers;
    r->headers = NULL;
    r->url = NULL;
    if (rc != PN_OK)
        st_http_req_done(r);
out:
    if (rc == PN_E_INTERNAL && (err == NULL || err->code != PN_E_INTERNAL))
        st_fail(err, rc, "out of memory building a storage request");
    curl_slist_free_all(h);
    free(auth);
    free(query);
    st_buf_free(&uri);
    st_buf_free(&url);
    return rc;
}

/* Fill buf from the source until full or the source ends. */
static int
put_single(s3_t *s, const char *key, const char *buf, size_t len, const char *ctype, st_err_t *err)
{
    st_http_req_t r = {0};
    s3_call_t c = {.method = "PUT",
                   .key = key,
                   .content_type = ctype,
                   .sse = true,
                   .body = buf,
                   .body_len = len};
    int rc = s3_do(s, &c, &r, err);
    if (rc == PN_OK && (r.status < 200 || r.status >= 300))
        rc = st_http_status_err(&r, "storage put", err);
    st_http_req_done(&r);
    return rc;
}

static void
abort_upload(s3_t *s, const char *key, const char *upload_id)
{
    st_http_req_t r = {0};
    st_kv_t q[] = {{"uploadId", upload_id}};
    s3_call_t c = {.method = "DELETE", .key = key, .params = q, .nparams = 1};
    if (s3_do(s, &c, &r, NULL) == PN_OK)
        st_http_req_done(&r);
}

static int
put_multipart(s3_t *s, const char *key, pn_storage_source_fn src, void *ud, char *buf, size_t len,
              const char *ctype, st_err_t *err)
{
    st_http_req_t r = {0};
    char upload_id[512];
    st_buf_t etags = {0}; /* the CompleteMultipartUpload body, built as parts finish */
    int rc, part = 0;
    bool eof = false;

    st_kv_t q0[] = {{"uploads", ""}};
    s3_call_t init = {.method = "POST",
                      .key = key,
                      .params = q0,
                      .nparams = 1,
                      .content_type = ctype,
                      .sse = true};
    if ((rc = s3_do(s, &init, &r, err)) != PN_OK)
        return rc;
    if (r.status != 200 || !st_xml_get(r.resp.s, "UploadId", upload_id, sizeof upload_id)) {
        rc = r.status != 200 ? st_http_status_err(&r, "storage multipart start", err)
                             : st_fail(err, PN_E_INTERNAL, "storage multipart start: no UploadId");
        st_http_req_done(&r);
        return rc;
    }
    st_http_req_done(&r);

    st_buf_puts(&etags, "<CompleteMultipartUpload>");
    while (len > 0) {
        char num[16];
        if (++part > MAX_PARTS) {
            rc = st_fail(err, PN_E_TOOLARGE, "object has more than %d parts", MAX_PARTS);
            goto fail;
        }
        (void)snprintf(num, sizeof num, "%d", part);
        st_kv_t q[] = {{"partNumber", num}, {"uploadId", upload_id}};
        s3_call_t pc = {
            .method = "PUT", .key = key, .params = q, .nparams = 2, .body = buf, .body_len = len};
        if ((rc = s3_do(s, &pc, &r, err)) != PN_OK)
            goto fail;
        if (r.status != 200 || r.etag[0] == '\0') {
            rc = r.status != 200 ? st_http_status_err(&r, "storage part upload", err)
                                 : st_fail(err, PN_E_INTERNAL, "storage part upload: no ETag");
            st_http_req_done(&r);
            goto fail;
        }
        st_buf_printf(&etags, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>", part,
                      r.etag);
        st_http_req_done(&r);
        if (eof)
            break;
        if ((rc = st_fill(src, ud, buf, s->base.opts.part_size, &len, &eof, err)) != PN_OK)
            goto fail;
    }
    st_buf_puts(&etags, "</CompleteMultipartUpload>");
    if (etags.oom) {
        rc = st_fail(err, PN_E_INTERNAL, "out of memory");
        goto fail;
    }
    st_kv_t qc[] = {{"uploadId", upload_id}};
    s3_call_t cc = {.method = "POST",
                    .key = key,
                    .params = qc,
                    .nparams = 1,
                    .content_type = "application/xml",
                    .body = etags.s,
                    .body_len = etags.len};
    if ((rc = s3_do(s, &cc, &r, err)) != PN_OK)
        goto fail;
    /* S3 may answer 200 and put the error in the body. */
    if (r.status != 200 || (r.resp.s != NULL && strstr(r.resp.s, "<Error>") != NULL)) {
        if (r.status == 200)
            r.status = 500;
        rc = st_http_status_err(&r, "storage multipart complete", err);
        st_http_req_done(&r);
        goto fail;
    }
    st_http_req_done(&r);
    st_buf_free(&etags);
    return PN_OK;

fail:
    st_buf_free(&etags);
    abort_upload(s, key, upload_id);
    return rc;
}

static int
s3_put(st_backend_t *b, const char *key, pn_storage_source_fn src, void *ud, uint64_t size_hint,
       const char *content_type, st_err_t *err)
{
    s3_t *s = (s3_t *)b;
    size_t cap = b->opts.part_size, len;
    bool eof;

    /* A small known size needs only a small buffer. */
    if (size_hint > 0 && size_hint < cap)
        cap = (size_t)size_hint + 1;
    char *buf = malloc(cap);
    if (buf == NULL)
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    int rc = st_fill(src, ud, buf, cap, &len, &eof, err);
    if (rc == PN_OK && eof) {
        rc = put_single(s, key, buf, len, content_type, err);
    } else if (rc == PN_OK) {
        if (cap < b->opts.part_size) {
            /* The hint was low: continue with full-size parts. */
            char *big = realloc(buf, b->opts.part_size);
            if (big == NULL) {
                free(buf);
                return st_fail(err, PN_E_INTERNAL, "out of memory");
            }
            buf = big;
            size_t more;
            rc = st_fill(src, ud, buf + len, b->opts.part_size - len, &more, &eof, err);
            len += more;
            if (rc == PN_OK && eof)
                rc = put_single(s, key, buf, len, content_type, err);
            else if (rc == PN_OK)
                rc = put_multipart(s, key, src, ud, buf, len, content_type, err);
        } else {
            rc = put_multipart(s, key, src, ud, buf, len, content_type, err);
        }
    }
    free(buf);
    return rc;
}

static int
s3_get(st_backend_t *b, const char *key, uint64_t offset, uint64_t length, pn_storage_sink_fn sink,
       void *ud, st_err_t *err)
{
    s3_t *s = (s3_t *)b;
    st_http_req_t r = {0};
    char range[64];
    bool ranged = offset > 0 || length > 0;

    if (length > 0)
        (void)snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)offset,
                       (unsigned long long)(offset + length - 1));
    else
        (void)snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)offset);
    r.ranged = ranged;
    r.range_off = offset;
    r.range_len = length;
    s3_call_t c = {
        .method = "GET", .key = key, .range = ranged ? range : NULL, .sink = sink, .ud = ud};
    int rc = s3_do(s, &c, &r, err);
    if (rc != PN_OK)
        return rc;
    if (r.status == 416 && offset == 0)
        rc = PN_OK; /* an empty object has no byte 0 */
    else if ((r.status == 200 && ranged && offset > 0 && r.seen <= offset) ||
             (r.status == 206 && offset > 0 && r.range_total > 0 && offset >= r.range_total))
        rc = st_fail(err, PN_E_RANGE, "range starts past the end of the object");
    else if (r.status == 206 && r.range_start > offset)
        rc = st_fail(err, PN_E_INTERNAL, "storage get: the server sent another range");
    else if (r.status != 200 && r.status != 206)
        rc = st_http_status_err(&r, "storage get", err);
    st_http_req_done(&r);
    return rc;
}

static int
s3_open_fd(st_backend_t *b, const char *key, int *fd, uint64_t *size, st_err_t *err)
{
    (void)b, (void)key, (void)fd, (void)size;
    return st_fail(err, PN_E_UNAVAILABLE, "remote storage has no file descriptors");
}

static int
s3_remove(st_backend_t *b, const char *key, st_err_t *err)
{
    st_http_req_t r = {0};
    s3_call_t c = {.method = "DELETE", .key = key};
    int rc = s3_do((s3_t *)b, &c, &r, err);
    if (rc == PN_OK && r.status != 204 && r.status != 200 && r.status != 404)
        rc = st_http_status_err(&r, "storage delete", err);
    st_http_req_done(&r);
    return rc;
}

static int
s3_stat(st_backend_t *b, const char *key, pn_storage_info_t *info, st_err_t *err)
{
    st_http_req_t r = {0};
    s3_call_t c = {.method = "HEAD", .key = key};
    int rc = s3_do((s3_t *)b, &c, &r, err);
    if (rc == PN_OK && r.status == 200) {
        info->size = r.content_length > 0 ? (uint64_t)r.content_length : 0;
        /* Both the same sizes as st_http_req_t's. */
        (void)snprintf(info->etag, sizeof info->etag, "%s", r.etag);
        (void)snprintf(info->content_type, sizeof info->content_type, "%s", r.ctype);
    } else if (rc == PN_OK) {
        rc = st_http_status_err(&r, "storage stat", err);
    }
    st_http_req_done(&r);
    return rc;
}

static int
s3_presign(st_backend_t *b, const char *key, pn_method_t method, int ttl_s, char **url,
           st_err_t *err)
{
    s3_t *s = (s3_t *)b;
    char host[320], date[17];
    st_buf_t uri = {0}, out = {0};

    target(s, key, host, sizeof host, &uri);
    st_sigv4_date(time(NULL), date);
    char *q = uri.oom ? NULL
                      : st_sigv4_presign(&s->sig, method == PN_PUT ? "PUT" : "GET", host, uri.s,
                                         ttl_s, date);
    if (q != NULL)
        st_buf_printf(&out, "%s://%s%s?%s", s->ep.scheme, host, uri.s, q);
    free(q);
    st_buf_free(&uri);
    *url = q ? st_buf_take(&out) : NULL;
    if (*url == NULL) {
        st_buf_free(&out);
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    }
    return PN_OK;
}

/* The bucket answers a signed HEAD. */
static int
s3_health(st_backend_t *b, st_err_t *err)
{
    st_http_req_t r = {0};
    s3_call_t c = {.method = "HEAD"};
    int rc = s3_do((s3_t *)b, &c, &r, err);
    if (rc == PN_OK && r.status == 404)
        rc = st_fail(err, PN_E_UNAVAILABLE, "storage bucket not found");
    else if (rc == PN_OK && r.status != 200)
        rc = st_http_status_err(&r, "storage health", err);
    st_http_req_done(&r);
    return rc;
}

static void
s3_free(st_backend_t *b)
{
    s3_t *s = (s3_t *)b;
    st_http_cleanup(&s->http);
    if (s->secret != NULL) {
        memset(s->secret, 0, strlen(s->secret));
        free(s->secret);
    }
    free(s->access_key);
    free(s);
}

static const st_ops_t s3_ops = {
    .type = "s3",
    .put = s3_put,
    .get = s3_get,
    .open_fd = s3_open_fd,
    .remove = s3_remove,
    .stat = s3_stat,
    .presign = s3_presign,
    .health = s3_health,
    .free = s3_free,
};

static const st_ops_t gcs_ops = {
    .type = "gcs",
    .put = s3_put,
    .get = s3_get,
    .open_fd = s3_open_fd,
    .remove = s3_remove,
    .stat = s3_stat,
    .presign = s3_presign,
    .health = s3_health,
    .free = s3_free,
};

static bool
valid_bucket(const char *b, bool gcs)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        bool edge = i == 0 || i == n - 1;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (!edge && (c == '-' || c == '.' || (gcs && c == '_')));
        if (!ok)
            return false;
    }
    return true;
}

int
st_s3_new(const char *type, const json_t *conf, const json_t *creds, const st_opts_t *opts,
          st_backend_t **out, st_err_t *err)
{
    bool gcs = strcmp(type, "gcs") == 0;
    const char *bucket = json_string_value(json_object_get(conf, "bucket"));
    const char *region = json_string_value(json_object_get(conf, "region"));
    const char *endpoint = json_string_value(json_object_get(conf, "endpoint"));
    const char *prefix = json_string_value(json_object_get(conf, "prefix"));
    const char *sse = json_string_value(json_object_get(conf, "server_side_encryption"));
    const char *signing = json_string_value(json_object_get(conf, "signature"));
    const char *ak =
        json_string_value(json_object_get(creds, gcs ? "hmac_access_id" : "access_key_id"));
    const char *sk =
        json_string_value(json_object_get(creds, gcs ? "hmac_secret" : "secret_access_key"));
    char def_ep[128];
    int rc;

    if (bucket == NULL || !valid_bucket(bucket, gcs))
        return st_fail(err, PN_E_INVALID, "bucket name is not valid");
    if (ak == NULL || sk == NULL || ak[0] == '\0' || sk[0] == '\0')
        return st_fail(err, PN_E_INVALID, "storage credentials missing");
    if (region == NULL || region[0] == '\0')
        region = gcs ? "auto" : "us-east-1";
    if (strlen(region) > 32 ||
        strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region))
        return st_fail(err, PN_E_INVALID, "region is not valid");
    if (sse != NULL && sse[0] != '\0' && (gcs || strcmp(sse, "AES256") != 0))
        return st_fail(err, PN_E_INVALID, "server_side_encryption must be \"AES256\" (S3 only)");
    if (signing != NULL && strcmp(signing, "goog4") != 0 && strcmp(signing, "aws4") != 0)
        return st_fail(err, PN_E_INVALID, "signature must be \"goog4\" or \"aws4\"");

    s3_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    s->base.ops = gcs ? &gcs_ops : &s3_ops;
    s->base.opts = *opts;
    s->gcs = gcs;
    if (endpoint == NULL || endpoint[0] == '\0') {
        if (gcs)
            (void)snprintf(def_ep, sizeof def_ep, "https://storage.googleapis.com");
        else
            (void)snprintf(def_ep, sizeof def_ep, "https://s3.%s.amazonaws.com", region);
        endpoint = def_ep;
    }
    if ((rc = st_endpoint_parse(endpoint, opts->allow_private, &s->ep, err)) != PN_OK ||
        (rc = st_prefix_check(prefix, s->prefix, sizeof s->prefix, err)) != PN_OK)
        goto fail;
    /* GCS and dotted bucket names (TLS wildcard) are path-style; S3 follows the config. */
    json_t *ps = json_object_get(conf, "force_path_style");
    s->path_style = gcs || json_is_true(ps) || strchr(bucket, '.') != NULL;
    /* Bucket (<= 63), region (<= 32) and sse ("" or "AES256") were checked above. */
    (void)snprintf(s->bucket, sizeof s->bucket, "%s", bucket);
    (void)snprintf(s->region, sizeof s->region, "%s", region);
    (void)snprintf(s->sse, sizeof s->sse, "%s", sse ? sse : "");
    s->access_key = strdup(ak);
    s->secret = strdup(sk);
    if (s->access_key == NULL || s->secret == NULL) {
        rc = st_fail(err, PN_E_INTERNAL, "out of memory");
        goto fail;
    }
    s->sig.goog = gcs && (signing == NULL || strcmp(signing, "goog4") == 0);
    s->sig.region = s->region;
    /* GCS names its own flavour's service "storage"; with AWS4 keys it takes "s3". */
    s->sig.service = s->sig.goog ? "storage" : "s3";
    s->sig.access_key = s->access_key;
    s->sig.secret = s->secret;
    if ((rc = st_http_init(&s->http, opts, err)) != PN_OK)
        goto fail;
    *out = &s->base;
    return PN_OK;
fail:
    s3_free(&s->base);
    return rc;
}
