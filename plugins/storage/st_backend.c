/*
 * Backend factory and the checked entry points: every key is validated here once, before any
 * provider sees it, so no provider can be reached with a key that leaves its root or prefix.
 */
#include "st.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
st_fail(st_err_t *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        err->passthrough = false;
    }
    return code;
}

int
st_fail_cb(st_err_t *err, int rc, const char *what)
{
    rc = rc < 0 ? rc : PN_E_INTERNAL;
    st_fail(err, rc, "%s", what);
    if (err != NULL)
        err->passthrough = true;
    return rc;
}

void
st_opts_default(st_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->part_size = PN_MIB(8);
    o->connect_timeout = 10;
    o->io_timeout = 60;
}

int
st_key_check(const char *key, st_err_t *err)
{
    if (key == NULL || key[0] == '\0')
        return st_fail(err, PN_E_INVALID, "storage key is empty");
    size_t n = strnlen(key, ST_KEY_MAX + 1);
    if (n > ST_KEY_MAX)
        return st_fail(err, PN_E_INVALID, "storage key is longer than %d bytes", ST_KEY_MAX);

    const char *comp = key;
    for (size_t i = 0;; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '/' || c == '\0') {
            size_t len = (size_t)(key + i - comp);
            if (len == 0)
                return st_fail(err, PN_E_INVALID, "storage key has an empty path component");
            if ((len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.'))
                return st_fail(err, PN_E_INVALID, "storage key has a '.' or '..' component");
            if (len > ST_COMPONENT_MAX)
                return st_fail(err, PN_E_INVALID, "storage key component longer than %d bytes",
                               ST_COMPONENT_MAX);
            if (len >= 4 && memcmp(comp, ".pn-", 4) == 0)
                return st_fail(err, PN_E_INVALID, "storage key component uses a reserved name");
            if (c == '\0')
                break;
            comp = key + i + 1;
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            return st_fail(err, PN_E_INVALID, "storage key has a control character");
        if (c == '\\' || c == '%')
            return st_fail(err, PN_E_INVALID, "storage key has a '\\' or '%%'");
    }
    return PN_OK;
}

int
st_fill(pn_storage_source_fn src, void *ud, char *buf, size_t cap, size_t *len, bool *eof,
        st_err_t *err)
{
    *len = 0;
    *eof = false;
    while (*len < cap) {
        size_t got = 0;
        int rc = src(ud, buf + *len, cap - *len, &got);
        if (rc != PN_OK)
            return st_fail_cb(err, rc, "upload aborted by its source");
        if (got > cap - *len)
            return st_fail(err, PN_E_INTERNAL, "storage source returned more than asked");
        if (got == 0) {
            *eof = true;
            break;
        }
        *len += got;
    }
    return PN_OK;
}

int
st_prefix_check(const char *prefix, char *out, size_t n, st_err_t *err)
{
    out[0] = '\0';
    if (prefix == NULL || prefix[0] == '\0')
        return PN_OK;
    size_t len = strlen(prefix);
    while (len > 0 && prefix[len - 1] == '/')
        len--;
    if (len == 0 || len + 2 > n || len > 200)
        return st_fail(err, PN_E_INVALID, "prefix is empty or too long");
    memcpy(out, prefix, len);
    out[len] = '\0';
    if (st_key_check(out, err) != PN_OK)
        return st_fail(err, PN_E_INVALID, "prefix is not a valid key directory");
    out[len] = '/';
    out[len + 1] = '\0';
    return PN_OK;
}

int
st_backend_new(const char *type, const json_t *conf, const json_t *creds, const st_opts_t *opts,
               st_backend_t **out, st_err_t *err)
{
    st_opts_t def;

    *out = NULL;
    if (opts == NULL) {
        st_opts_default(&def);
        opts = &def;
    }
    if (!json_is_object(conf))
        return st_fail(err, PN_E_INVALID, "storage configuration is not an object");
    if (type == NULL)
        return st_fail(err, PN_E_INVALID, "storage provider type missing");
    if (strcmp(type, "local") == 0)
        return st_local_new(conf, opts, out, err);
    if (strcmp(type, "s3") == 0 || strcmp(type, "gcs") == 0)
        return st_s3_new(type, conf, creds, opts, out, err);
    if (strcmp(type, "azure") == 0)
        return st_azure_new(conf, creds, opts, out, err);
    return st_fail(err, PN_E_INVALID, "unknown storage provider type");
}

void
st_backend_free(st_backend_t *b)
{
    if (b != NULL)
        b->ops->free(b);
}

int
st_put(st_backend_t *b, const char *key, pn_storage_source_fn src, void *ud, uint64_t size_hint,
       const char *content_type, st_err_t *err)
{
    int rc = st_key_check(key, err);
    if (rc != PN_OK)
        return rc;
    if (src == NULL)
        return st_fail(err, PN_E_INVALID, "storage put without a source");
    return b->ops->put(b, key, src, ud, size_hint, content_type, err);
}

int
st_get(st_backend_t *b, const char *key, uint64_t offset, uint64_t length, pn_storage_sink_fn sink,
       void *ud, st_err_t *err)
{
    int rc = st_key_check(key, err);
    if (rc != PN_OK)
        return rc;
    if (sink == NULL)
        return st_fail(err, PN_E_INVALID, "storage get without a sink");
    if (length > 0 && offset + length < offset)
        return st_fail(err, PN_E_RANGE, "byte range overflows");
    return b->ops->get(b, key, offset, length, sink, ud, err);
}

int
st_open_fd(st_backend_t *b, const char *key, int *fd, uint64_t *size, st_err_t *err)
{
    *fd = -1;
    int rc = st_key_check(key, err);
    return rc != PN_OK ? rc : b->ops->open_fd(b, key, fd, size, err);
}

int
st_write_at(st_backend_t *b, const char *key, uint64_t offset, const void *buf, size_t len,
            bool sync, st_err_t *err)
{
    int rc = st_key_check(key, err);
    if (rc != PN_OK)
        return rc;
    if (b->ops->write_at == NULL)
        return st_fail(err, PN_E_UNAVAILABLE, "%s storage has no in-place writes", b->ops->type);
    if (offset > (uint64_t)INT64_MAX - len)
        return st_fail(err, PN_E_RANGE, "write past the largest offset");
    return b->ops->write_at(b, key, offset, buf, len, sync, err);
}

int
st_publish(st_backend_t *b, const char *from, const char *to, const char *content_type,
           st_err_t *err)
{
    int rc = st_key_check(from, err);
    if (rc == PN_OK)
        rc = st_key_check(to, err);
    if (rc != PN_OK)
        return rc;
    if (b->ops->publish == NULL)
        return st_fail(err, PN_E_UNAVAILABLE, "%s storage has no in-place writes", b->ops->type);
    return b->ops->publish(b, from, to, content_type, err);
}

int
st_remove(st_backend_t *b, const char *key, st_err_t *err)
{
    int rc = st_key_check(key, err);
    return rc != PN_OK ? rc : b->ops->remove(b, key, err);
}

int
st_stat(st_backend_t *b, const char *key, pn_storage_info_t *info, st_err_t *err)
{
    pn_storage_info_t scratch;
    int rc = st_key_check(key, err);
    if (rc != PN_OK)
        return rc;
    memset(info ? info : &scratch, 0, sizeof scratch);
    return b->ops->stat(b, key, info ? info : &scratch, err);
}

int
st_presign(st_backend_t *b, const char *key, pn_method_t method, int ttl_s, char **url,
           st_err_t *err)
{
    *url = NULL;
    int rc = st_key_check(key, err);
    if (rc != PN_OK)
        return rc;
    if (method != PN_GET && method != PN_PUT)
        return st_fail(err, PN_E_INVALID, "presigned URLs are for GET or PUT only");
    if (ttl_s < 1 || ttl_s > 604800)
        return st_fail(err, PN_E_INVALID, "presigned URL lifetime must be 1 s to 7 days");
    return b->ops->presign(b, key, method, ttl_s, url, err);
}

int
st_health(st_backend_t *b, st_err_t *err)
{
    return b->ops->health(b, err);
}
