/*
 * The request object: built from a parsed head with one copy of the head bytes into the arena
 * (names and values are NUL-terminated in place), plus the header helpers of http.h.
 */
#include "http_request.h"

#include <string.h>
#include <strings.h>

#include <powernode/types.h>

int
pnk_http_method_id(const char *m, size_t n)
{
    static const struct {
        const char *name;
        size_t len;
        int id;
    } methods[] = {
        {"GET", 3, PN_GET},         {"HEAD", 4, PN_HEAD},   {"POST", 4, PN_POST},
        {"PUT", 3, PN_PUT},         {"PATCH", 5, PN_PATCH}, {"DELETE", 6, PN_DELETE},
        {"OPTIONS", 7, PN_OPTIONS},
    };

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].len == n && memcmp(methods[i].name, m, n) == 0)
            return methods[i].id;
    return 0;
}

static int
hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode the path; NULL for a malformed escape or an encoded NUL, which could cut the
 * path short in code that treats it as a C string. */
static const char *
decode_path(pnk_arena_t *a, const char *s, size_t n, const char **err)
{
    char *out, *o;

    if (memchr(s, '%', n) == NULL)
        return s;
    if ((out = pnk_arena_alloc(a, n + 1)) == NULL) {
        *err = "out of memory";
        return NULL;
    }
    o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        if (i + 2 >= n) {
            *err = "malformed percent-encoding in path";
            return NULL;
        }
        int h = hex(s[i + 1]), l = hex(s[i + 2]);
        if (h < 0 || l < 0) {
            *err = "malformed percent-encoding in path";
            return NULL;
        }
        if (h == 0 && l == 0) {
            *err = "encoded NUL in path";
            return NULL;
        }
        *o++ = (char)(h << 4 | l);
        i += 2;
    }
    *o = '\0';
    return out;
}

int
pnk_http_request_build(pnk_arena_t *a, const pnk_http_parser_t *p, const char *buf,
                       pnk_http_request_t **out, const char **err)
{
    pnk_http_request_t *r = pnk_arena_calloc(a, 1, sizeof(*r));
    char *head = pnk_arena_memdup(a, buf, p->pos);

    *err = "out of memory";
    if (r == NULL || head == NULL)
        return 500;
    r->arena = a;
    r->method = head + p->method.off;
    head[p->method.off + p->method.len] = '\0';
    r->method_id = pnk_http_method_id(r->method, p->method.len);

    char *target = head + p->target.off;
    target[p->target.len] = '\0';
    r->target = target;
    char *q = memchr(target, '?', p->target.len);
    size_t plen = q ? (size_t)(q - target) : p->target.len;
    if (q) {
        r->query = q + 1;
        r->raw_path = pnk_arena_strndup(a, target, plen);
        if (r->raw_path == NULL)
            return 500;
    } else {
        r->raw_path = target;
    }
    if ((r->path = decode_path(a, r->raw_path, plen, err)) == NULL)
        return strcmp(*err, "out of memory") == 0 ? 500 : 400;

    r->nheaders = p->nfields;
    if (p->nfields) {
        r->headers = pnk_arena_alloc(a, p->nfields * sizeof(r->headers[0]));
        if (r->headers == NULL)
            return 500;
    }
    for (size_t i = 0; i < p->nfields; i++) {
        const pnk_http_field_t *f = &p->fields[i];
        /* The byte after a name is ':' and after a trimmed value it is SP, HTAB or CR: all
         * safe to overwrite in the copy. */
        head[f->name.off + f->name.len] = '\0';
        head[f->value.off + f->value.len] = '\0';
        r->headers[i].name = head + f->name.off;
        r->headers[i].value = head + f->value.off;
    }
    r->http_minor = p->http_minor;
    r->keep_alive = p->keep_alive;
    *out = r;
    *err = NULL;
    return 0;
}

const char *
pnk_http_request_header(const pnk_http_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* A header we would emit must not be able to end the line early or start a new one. */
static bool
header_ok(const char *name, const char *value)
{
    if (name[0] == '\0')
        return false;
    for (const char *s = name; *s; s++)
        if (*s <= ' ' || *s == ':' || *s == 0x7f)
            return false;
    for (const unsigned char *v = (const unsigned char *)value; *v; v++)
        if ((*v < ' ' && *v != '\t') || *v == 0x7f)
            return false;
    return true;
}

int
pnk_http_response_header(pnk_http_request_t *req, pnk_http_response_t *resp, const char *name,
                         const char *value)
{
    if (!header_ok(name, value))
        return -1;
    if (resp->nheaders == resp->cap) {
        size_t cap = resp->cap ? resp->cap * 2 : 8;
        pnk_http_header_t *h = pnk_arena_alloc(req->arena, cap * sizeof(*h));
        if (h == NULL)
            return -1;
        if (resp->nheaders)
            memcpy(h, resp->headers, resp->nheaders * sizeof(*h));
        resp->headers = h;
        resp->cap = cap;
    }
    const char *n = pnk_arena_strdup(req->arena, name);
    const char *v = pnk_arena_strdup(req->arena, value);
    if (n == NULL || v == NULL)
        return -1;
    resp->headers[resp->nheaders].name = n;
    resp->headers[resp->nheaders].value = v;
    resp->nheaders++;
    return 0;
}
