/*
 * Redis URL parsing: redis://[user:password@]host[:port][/db] and unix:///path[?db=N].
 * Nothing is assumed beyond what the URL says except port 6379 and database 0.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redis_internal.h"

void
pnk_redis_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out (size cap); -1 on a bad escape, NUL or overflow. */
static int
decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* Digits only, value in [lo, hi]. */
static int
number(const char *s, size_t n, long lo, long hi, int *out)
{
    if (n == 0 || n > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

#define MAX_DB 1000000

static int
parse_unix(const char *rest, pnk_redis_endpoint_t *t, char *err, size_t errlen)
{
    const char *q = strchr(rest, '?');
    size_t plen = q ? (size_t)(q - rest) : strlen(rest);
    if (plen == 0 || rest[0] != '/') {
        pnk_redis_errf(err, errlen, "redis URL: unix:// needs an absolute socket path");
        return PN_E_INVALID;
    }
    if (decode(rest, plen, t->path, sizeof t->path) != 0) {
        pnk_redis_errf(err, errlen, "redis URL: bad or too long socket path");
        return PN_E_INVALID;
    }
    while (q && *q) {
        const char *p = q + 1;
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > 3 && strncmp(p, "db=", 3) == 0) {
            if (number(p + 3, n - 3, 0, MAX_DB, &t->db) != 0) {
                pnk_redis_errf(err, errlen, "redis URL: db must be a database number");
                return PN_E_INVALID;
            }
        } else if (n > 9 && strncmp(p, "password=", 9) == 0) {
            if (decode(p + 9, n - 9, t->pass, sizeof t->pass) != 0) {
                pnk_redis_errf(err, errlen, "redis URL: bad or too long password");
                return PN_E_INVALID;
            }
        } else {
            pnk_redis_errf(err, errlen, "redis URL: unknown parameter (only db and password)");
            return PN_E_INVALID;
        }
        q = amp;
    }
    (void)snprintf(t->where, sizeof t->where, "%s", t->path);
    return PN_OK;
}

static int
parse_userinfo(const char *s, size_t n, pnk_redis_endpoint_t *t, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', n);
    if (!colon) {
        pnk_redis_errf(err, errlen, "redis URL: a user needs a password (user:password@)");
        return PN_E_INVALID;
    }
    size_t ulen = (size_t)(colon - s);
    if (decode(s, ulen, t->user, sizeof t->user) != 0 ||
        decode(colon + 1, n - ulen - 1, t->pass, sizeof t->pass) != 0) {
        pnk_redis_errf(err, errlen, "redis URL: bad or too long user or password");
        return PN_E_INVALID;
    }
    if (t->pass[0] == '\0') {
        pnk_redis_errf(err, errlen, "redis URL: empty password");
        return PN_E_INVALID;
    }
    return PN_OK;
}

static int
parse_hostport(const char *s, size_t n, pnk_redis_endpoint_t *t, char *err, size_t errlen)
{
    const char *hs = s, *he;
    const char *portp = NULL;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) {
            pnk_redis_errf(err, errlen, "redis URL: unclosed [ in host");
            return PN_E_INVALID;
        }
        hs = s + 1;
        he = close;
        if (close + 1 < s + n) {
            if (close[1] != ':') {
                pnk_redis_errf(err, errlen, "redis URL: junk after ]");
                return PN_E_INVALID;
            }
            portp = close + 2;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        he = colon ? colon : s + n;
        portp = colon ? colon + 1 : NULL;
    }
    size_t hlen = (size_t)(he - hs);
    if (hlen == 0) {
        pnk_redis_errf(err, errlen, "redis URL has no host");
        return PN_E_INVALID;
    }
    if (hlen >= sizeof t->host) {
        pnk_redis_errf(err, errlen, "redis URL: host too long");
        return PN_E_INVALID;
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)hs[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_')) {
            pnk_redis_errf(err, errlen, "redis URL: bad character in host");
            return PN_E_INVALID;
        }
    }
    memcpy(t->host, hs, hlen);
    t->host[hlen] = '\0';
    t->port = 6379;
    if (portp && number(portp, (size_t)(s + n - portp), 1, 65535, &t->port) != 0) {
        pnk_redis_errf(err, errlen, "redis URL: port must be 1-65535");
        return PN_E_INVALID;
    }
    (void)snprintf(t->where, sizeof t->where, strchr(t->host, ':') ? "[%s]:%d" : "%s:%d", t->host,
                   t->port);
    return PN_OK;
}

static int
parse_tcp(const char *rest, pnk_redis_endpoint_t *t, char *err, size_t errlen)
{
    size_t auth_end = strcspn(rest, "/?#");
    if (rest[auth_end] == '?' || rest[auth_end] == '#') {
        pnk_redis_errf(err, errlen, "redis URL: query parameters are not supported");
        return PN_E_INVALID;
    }
    const char *at = NULL;
    for (size_t i = 0; i < auth_end; i++)
        if (rest[i] == '@')
            at = rest + i;
    const char *hp = rest;
    if (at) {
        int rc = parse_userinfo(rest, (size_t)(at - rest), t, err, errlen);
        if (rc != PN_OK)
            return rc;
        hp = at + 1;
    }
    int rc = parse_hostport(hp, (size_t)(rest + auth_end - hp), t, err, errlen);
    if (rc != PN_OK)
        return rc;
    const char *path = rest + auth_end;
    if (*path == '/' && path[1] != '\0' &&
        (strpbrk(path + 1, "?#") || number(path + 1, strlen(path + 1), 0, MAX_DB, &t->db))) {
        pnk_redis_errf(err, errlen, "redis URL: the path must be a database number (/0)");
        return PN_E_INVALID;
    }
    return PN_OK;
}

int
pnk_redis_url_parse(const char *url, pnk_redis_endpoint_t *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!url || !*url) {
        pnk_redis_errf(err, errlen, "redis URL is empty");
        return PN_E_INVALID;
    }
    if (strncasecmp(url, "redis://", 8) == 0)
        return parse_tcp(url + 8, t, err, errlen);
    if (strncasecmp(url, "unix://", 7) == 0)
        return parse_unix(url + 7, t, err, errlen);
    if (strncasecmp(url, "rediss://", 9) == 0)
        pnk_redis_errf(err, errlen, "redis URL: TLS (rediss://) is not supported");
    else
        pnk_redis_errf(err, errlen, "redis URL must start with redis:// or unix://");
    return PN_E_INVALID;
}
