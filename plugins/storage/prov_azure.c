/*
 * Azure Blob storage with Shared Key authentication (HMAC-SHA256 of the account key) and
 * service SAS for presigned URLs. Objects that fit in one block go up with Put Blob; larger
 * ones as blocks committed at the end by Put Block List, so readers never see a partial blob.
 */
#include "st_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_VERSION "2021-08-06"
#define MAX_BLOCKS 50000

typedef struct azure {
    st_backend_t base;
    st_http_t http;
    st_endpoint_t ep;
    char account[64];
    char container[64];
    char prefix[256];
    unsigned char key[128];
    size_t keylen;
} azure_t;

static const st_ops_t azure_ops;

typedef struct az_call {
    const char *method;
    const char *key; /* NULL: the container */
    const st_kv_t *params;
    size_t nparams;
    const char *content_type;
    const st_kv_t *ms; /* extra x-ms-* headers (lower case), besides date and version */
    size_t nms;
    const void *body;
    size_t body_len;
    pn_storage_sink_fn sink;
    void *ud;
} az_call_t;

static void
path_of(const azure_t *a, const char *key, st_buf_t *uri)
{
    st_buf_printf(uri, "%s/%s", a->ep.path, a->container);
    if (key != NULL) {
        st_buf_add(uri, "/", 1);
        st_uri_encode(uri, a->prefix, true);
        st_uri_encode(uri, key, true);
    }
}

static int
cmp_kv(const void *x, const void *y)
{
    return strcmp(((const st_kv_t *)x)->k, ((const st_kv_t *)y)->k);
}

static int
az_do(azure_t *a, const az_call_t *c, st_http_req_t *r, st_err_t *err)
{
    char hostport[300], date[64], sig[45], clen[24];
    st_buf_t uri = {0}, url = {0}, sts = {0}, line = {0};
    struct curl_slist *h = NULL;
    st_kv_t ms[12];
    size_t nms = 0;
    int rc = PN_E_INTERNAL;
    time_t now = time(NULL);
    struct tm tm;

    if (c->nms + 2 > sizeof ms / sizeof ms[0])
        return st_fail(err, PN_E_INTERNAL, "too many headers");
    gmtime_r(&now, &tm);
    (void)strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ms[nms++] = (st_kv_t){"x-ms-date", date};
    ms[nms++] = (st_kv_t){"x-ms-version", API_VERSION};
    for (size_t i = 0; i < c->nms; i++)
        ms[nms++] = c->ms[i];
    qsort(ms, nms, sizeof ms[0], cmp_kv);

    st_endpoint_hostport(&a->ep, hostport, sizeof hostport);
    path_of(a, c->key, &uri);
    char *query = c->nparams ? st_canonical_query(c->params, c->nparams) : strdup("");
    if (query == NULL || uri.oom)
        goto out;

    bool has_body = strcmp(c->method, "PUT") == 0 || strcmp(c->method, "POST") == 0;
    (void)snprintf(clen, sizeof clen, "%zu", c->body_len);
    st_buf_printf(&sts, "%s\n\n\n%s\n\n%s\n\n\n\n\n\n\n", c->method,
                  has_body && c->body_len > 0 ? clen : "", c->content_type ? c->content_type : "");
    for (size_t i = 0; i < nms; i++)
        st_buf_printf(&sts, "%s:%s\n", ms[i].k, ms[i].v);
    st_buf_printf(&sts, "/%s%s", a->account, uri.s);
    if (c->nparams > 0) {
        st_kv_t sorted[8];
        size_t np = c->nparams < 8 ? c->nparams : 8;
        memcpy(sorted, c->params, np * sizeof sorted[0]);
        qsort(sorted, np, sizeof sorted[0], cmp_kv);
        for (size_t i = 0; i < np; i++)
            st_buf_printf(&sts, "\n%s:%s", sorted[i].k, sorted[i].v ? sorted[i].v : "");
    }
    if (sts.oom)
        goto out;
    st_azure_sign(a->key, a->keylen, sts.s, sig);

    st_buf_printf(&url, "%s://%s%s%s%s", a->ep.scheme, hostport, uri.s, query[0] ? "?" : "", query);
    st_buf_printf(&line, "Authorization: SharedKey %s:%s", a->account, sig);
    h = curl_slist_append(h, line.s ? line.s : "");
    st_buf_free(&line);
    for (size_t i = 0; i < nms; i++) {
        st_buf_printf(&line, "%s: %s", ms[i].k, ms[i].v);
        h = curl_slist_append(h, line.s ? line.s : "");
        st_buf_free(&line);
    }
    if (c->content_type != NULL) {
        st_buf_printf(&line, "Content-Type: %s", c->content_type);
        h = curl_slist_append(h, line.s ? line.s : "");
        st_buf_free(&line);
    } else if (has_body) {
        h = curl_slist_append(h, "Content-Type:");
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
    rc = st_http_do(&a->http, r, err);
    h = r->headers;
    r->headers = NULL;
    r->url = NULL;
    if (rc != PN_OK)
        st_http_req_done(r);
out:
    if (rc == PN_E_INTERNAL && (err == NULL || err->code != PN_E_INTERNAL))
        st_fail(err, rc, "out of memory building a storage request");
    curl_slist_free_all(h);
    free(query);
    st_buf_free(&uri);
    st_buf_free(&url);
    st_buf_free(&sts);
    return rc;
}

static int
expect(st_http_req_t *r, long want, const char *what, st_err_t *err)
{
    int rc = r->status == want ? PN_OK : st_http_status_err(r, what, err);
    st_http_req_done(r);
    return rc;
}

static int
az_put(st_backend_t *b, const char *key, pn_storage_source_fn src, void *ud, uint64_t size_hint,
       const char *content_type, st_err_t *err)
{
    azure_t *a = (azure_t *)b;
    size_t cap = b->opts.part_size, len;
    st_http_req_t r = {0};
    st_buf_t list = {0};
    bool eof;
    int rc, blocks = 0;

    (void)size_hint;
    char *buf = malloc(cap);
    if (buf == NULL)
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    if ((rc = st_fill(src, ud, buf, cap, &len, &eof, err)) != PN_OK)
        goto out;
    if (eof) {
        st_kv_t ms[] = {{"x-ms-blob-type", "BlockBlob"}};
        az_call_t c = {.method = "PUT",
                       .key = key,
                       .content_type = content_type,
                       .ms = ms,
                       .nms = 1,
                       .body = buf,
                       .body_len = len};
        if ((rc = az_do(a, &c, &r, err)) == PN_OK)
            rc = expect(&r, 201, "storage put", err);
        goto out;
    }
    st_buf_puts(&list, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    while (len > 0) {
        char raw[32], id[48];
        if (++blocks > MAX_BLOCKS) {
            rc = st_fail(err, PN_E_TOOLARGE, "object has more than %d blocks", MAX_BLOCKS);
            goto out;
        }
        (void)snprintf(raw, sizeof raw, "pnblock-%010d", blocks);
        st_b64_encode((const unsigned char *)raw, strlen(raw), id);
        st_kv_t q[] = {{"blockid", id}, {"comp", "block"}};
        az_call_t c = {
            .method = "PUT", .key = key, .params = q, .nparams = 2, .body = buf, .body_len = len};
        if ((rc = az_do(a, &c, &r, err)) != PN_OK ||
            (rc = expect(&r, 201, "storage block upload", err)) != PN_OK)
            goto out;
        st_buf_printf(&list, "<Latest>%s</Latest>", id);
        if (eof)
            break;
        if ((rc = st_fill(src, ud, buf, cap, &len, &eof, err)) != PN_OK)
            goto out;
    }
    st_buf_puts(&list, "</BlockList>");
    if (list.oom) {
        rc = st_fail(err, PN_E_INTERNAL, "out of memory");
        goto out;
    }
    {
        st_kv_t q[] = {{"comp", "blocklist"}};
        st_kv_t ms[] = {{"x-ms-blob-content-type", content_type ? content_type : ""}};
        az_call_t c = {.method = "PUT",
                       .key = key,
                       .params = q,
                       .nparams = 1,
                       .content_type = "application/xml",
                       .ms = ms,
                       .nms = content_type && content_type[0] ? 1 : 0,
                       .body = list.s,
                       .body_len = list.len};
        if ((rc = az_do(a, &c, &r, err)) == PN_OK)
            rc = expect(&r, 201, "storage block list commit", err);
    }
    /* Uncommitted blocks of a failed put are discarded by the service; nothing to abort. */
out:
    st_buf_free(&list);
    free(buf);
    return rc;
}

static int
az_get(st_backend_t *b, const char *key, uint64_t offset, uint64_t length, pn_storage_sink_fn sink,
       void *ud, st_err_t *err)
{
    st_http_req_t r = {0};
    char range[64];
    bool ranged = offset > 0 || length > 0;

    if (length > 0)
        (void)snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)offset,
                       (unsigned long long)(offset + length - 1));
    else
        (void)snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)offset);
    st_kv_t ms[] = {{"x-ms-range", range}};
    r.ranged = ranged;
    r.range_off = offset;
    r.range_len = length;
    az_call_t c = {
        .method = "GET", .key = key, .ms = ms, .nms = ranged ? 1 : 0, .sink = sink, .ud = ud};
    int rc = az_do((azure_t *)b, &c, &r, err);
    if (rc != PN_OK)
        return rc;
    if (r.status == 416 && offset == 0)
        rc = PN_OK;
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
az_open_fd(st_backend_t *b, const char *key, int *fd, uint64_t *size, st_err_t *err)
{
    (void)b, (void)key, (void)fd, (void)size;
    return st_fail(err, PN_E_UNAVAILABLE, "remote storage has no file descriptors");
}

static int
az_remove(st_backend_t *b, const char *key, st_err_t *err)
{
    st_http_req_t r = {0};
    az_call_t c = {.method = "DELETE", .key = key};
    int rc = az_do((azure_t *)b, &c, &r, err);
    if (rc == PN_OK && r.status != 202 && r.status != 200 && r.status != 404)
        rc = st_http_status_err(&r, "storage delete", err);
    st_http_req_done(&r);
    return rc;
}

static int
az_stat(st_backend_t *b, const char *key, pn_storage_info_t *info, st_err_t *err)
{
    st_http_req_t r = {0};
    az_call_t c = {.method = "HEAD", .key = key};
    int rc = az_do((azure_t *)b, &c, &r, err);
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

/* Service SAS (blob resource), signed-version 2020-12-06 and later layout. */
static int
az_presign(st_backend_t *b, const char *key, pn_method_t method, int ttl_s, char **url,
           st_err_t *err)
{
    azure_t *a = (azure_t *)b;
    char se[32], sig[45], hostport[300];
    time_t exp = time(NULL) + ttl_s;
    struct tm tm;
    st_buf_t sts = {0}, uri = {0}, out = {0};
    const char *sp = method == PN_PUT ? "cw" : "r";
    const char *spr = strcmp(a->ep.scheme, "https") == 0 ? "https" : "https,http";

    gmtime_r(&exp, &tm);
    (void)strftime(se, sizeof se, "%Y-%m-%dT%H:%M:%SZ", &tm);
    st_buf_printf(&sts, "%s\n\n%s\n/blob/%s/%s/%s%s\n\n\n%s\n%s\nb\n\n\n\n\n\n\n", sp, se,
                  a->account, a->container, a->prefix, key, spr, API_VERSION);
    if (sts.oom)
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    st_azure_sign(a->key, a->keylen, sts.s, sig);
    st_buf_free(&sts);

    st_kv_t q[] = {{"sv", API_VERSION}, {"se", se},   {"sr", "b"},
                   {"sp", sp},          {"spr", spr}, {"sig", sig}};
    char *query = st_canonical_query(q, sizeof q / sizeof q[0]);
    st_endpoint_hostport(&a->ep, hostport, sizeof hostport);
    path_of(a, key, &uri);
    if (query != NULL && !uri.oom)
        st_buf_printf(&out, "%s://%s%s?%s", a->ep.scheme, hostport, uri.s, query);
    free(query);
    st_buf_free(&uri);
    *url = st_buf_take(&out);
    if (*url == NULL || (*url)[0] == '\0') {
        free(*url);
        *url = NULL;
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    }
    return PN_OK;
}

static int
az_health(st_backend_t *b, st_err_t *err)
{
    st_http_req_t r = {0};
    st_kv_t q[] = {{"restype", "container"}};
    az_call_t c = {.method = "HEAD", .params = q, .nparams = 1};
    int rc = az_do((azure_t *)b, &c, &r, err);
    if (rc == PN_OK && r.status == 404)
        rc = st_fail(err, PN_E_UNAVAILABLE, "storage container not found");
    else if (rc == PN_OK && r.status != 200)
        rc = st_http_status_err(&r, "storage health", err);
    st_http_req_done(&r);
    return rc;
}

int
st_azure_create_container(st_backend_t *b, st_err_t *err)
{
    st_http_req_t r = {0};
    st_kv_t q[] = {{"restype", "container"}};
    if (b->ops != &azure_ops)
        return st_fail(err, PN_E_INVALID, "not an Azure storage");
    az_call_t c = {.method = "PUT", .params = q, .nparams = 1};
    int rc = az_do((azure_t *)b, &c, &r, err);
    if (rc == PN_OK && r.status != 201 && r.status != 409)
        rc = st_http_status_err(&r, "container create", err);
    st_http_req_done(&r);
    return rc;
}

static void
az_free(st_backend_t *b)
{
    azure_t *a = (azure_t *)b;
    st_http_cleanup(&a->http);
    memset(a->key, 0, sizeof a->key);
    free(a);
}

static const st_ops_t azure_ops = {
    .type = "azure",
    .put = az_put,
    .get = az_get,
    .open_fd = az_open_fd,
    .remove = az_remove,
    .stat = az_stat,
    .presign = az_presign,
    .health = az_health,
    .free = az_free,
};

int
st_azure_new(const json_t *conf, const json_t *creds, const st_opts_t *opts, st_backend_t **out,
             st_err_t *err)
{
    const char *account = json_string_value(json_object_get(conf, "account_name"));
    const char *container = json_string_value(json_object_get(conf, "container"));
    const char *endpoint = json_string_value(json_object_get(conf, "endpoint"));
    const char *prefix = json_string_value(json_object_get(conf, "prefix"));
    const char *key = json_string_value(json_object_get(creds, "account_key"));
    char def_ep[128];
    int rc;

    if (account == NULL || strlen(account) < 3 || strlen(account) > 24 ||
        strspn(account, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(account))
        return st_fail(err, PN_E_INVALID, "account_name is not valid");
    if (container == NULL || strlen(container) < 3 || strlen(container) > 63 ||
        strspn(container, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(container) ||
        container[0] == '-' || strstr(container, "--") != NULL)
        return st_fail(err, PN_E_INVALID, "container name is not valid");
    if (key == NULL || key[0] == '\0')
        return st_fail(err, PN_E_INVALID, "storage credentials missing");

    azure_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    a->base.ops = &azure_ops;
    a->base.opts = *opts;
    int kl =
        strlen(key) <= 4 * (sizeof a->key / 3) ? st_b64_decode(key, a->key, sizeof a->key) : -1;
    if (kl <= 0) {
        rc = st_fail(err, PN_E_INVALID, "account_key is not base64");
        goto fail;
    }
    a->keylen = (size_t)kl;
    if (endpoint == NULL || endpoint[0] == '\0') {
        (void)snprintf(def_ep, sizeof def_ep, "https://%s.blob.core.windows.net", account);
        endpoint = def_ep;
    }
    if ((rc = st_endpoint_parse(endpoint, opts->allow_private, &a->ep, err)) != PN_OK ||
        (rc = st_prefix_check(prefix, a->prefix, sizeof a->prefix, err)) != PN_OK)
        goto fail;
    /* Both lengths checked above (at most 24 and 63). */
    (void)snprintf(a->account, sizeof a->account, "%s", account);
    (void)snprintf(a->container, sizeof a->container, "%s", container);
    if ((rc = st_http_init(&a->http, opts, err)) != PN_OK)
        goto fail;
    *out = &a->base;
    return PN_OK;
fail:
    az_free(&a->base);
    return rc;
}
