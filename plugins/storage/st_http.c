/*
 * libcurl client for the remote providers (see st_http.h). The address guard runs in curl's
 * open-socket callback, i.e. on the address actually connected after DNS, so a name that
 * resolves to a private address is refused as well as a literal one.
 */
#include "st_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESP_CAP PN_KIB(64)

static bool
v4_blocked(uint32_t a)
{
    uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16), b2 = (uint8_t)(a >> 8);
    return b0 == 0 || b0 == 10 || b0 == 127 || b0 >= 224 || (b0 == 100 && (b1 & 0xc0) == 64) ||
           (b0 == 169 && b1 == 254) || (b0 == 172 && (b1 & 0xf0) == 16) ||
           (b0 == 192 && b1 == 168) || (b0 == 192 && b1 == 0 && b2 == 0) ||
           (b0 == 198 && (b1 & 0xfe) == 18);
}

static bool
v6_blocked(const unsigned char *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    static const unsigned char zero[16];

    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return v4_blocked((uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 |
                          a[15]);
    if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
        return true; /* :: and ::1 */
    return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff;
}

bool
st_addr_blocked(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_blocked(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return v6_blocked(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
    return true;
}

/* "localhost", "x.localhost", with or without a final dot: names resolvers keep local. */
static bool
is_localhost(const char *h)
{
    size_t n = strlen(h);
    if (n > 0 && h[n - 1] == '.')
        n--;
    return (n == 9 && strncasecmp(h, "localhost", 9) == 0) ||
           (n > 10 && strncasecmp(h + n - 10, ".localhost", 10) == 0);
}

int
st_endpoint_parse(const char *url, bool allow_private, st_endpoint_t *ep, st_err_t *err)
{
    memset(ep, 0, sizeof *ep);
    if (url == NULL)
        return st_fail(err, PN_E_INVALID, "endpoint missing");
    const char *p;
    if (strncmp(url, "https://", 8) == 0) {
        strcpy(ep->scheme, "https");
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0 && allow_private) {
        strcpy(ep->scheme, "http");
        p = url + 7;
    } else {
        return st_fail(err, PN_E_INVALID, "endpoint must be an https:// URL");
    }

    size_t hl;
    if (*p == '[') {
        hl = strcspn(p, "]");
        if (p[hl] != ']')
            return st_fail(err, PN_E_INVALID, "endpoint host is malformed");
        hl++;
    } else {
        hl = strcspn(p, ":/");
    }
    if (hl == 0 || hl >= sizeof ep->host)
        return st_fail(err, PN_E_INVALID, "endpoint host is malformed");
    for (size_t i = 0; i < hl; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || (p[0] == '[' && (c == ':' || c == '[' || c == ']'));
        if (!ok)
            return st_fail(err, PN_E_INVALID, "endpoint host is malformed");
    }
    memcpy(ep->host, p, hl);
    p += hl;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535)
            return st_fail(err, PN_E_INVALID, "endpoint port is malformed");
        ep->port = (int)port;
        p = end;
    }
    if (*p != '\0' && *p != '/')
        return st_fail(err, PN_E_INVALID, "endpoint is malformed");
    size_t pl = strlen(p);
    while (pl > 0 && p[pl - 1] == '/')
        pl--;
    if (pl >= sizeof ep->path)
        return st_fail(err, PN_E_INVALID, "endpoint path is too long");
    for (size_t i = 0; i < pl; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '-' || c == '_' || c == '.' || c == '~'))
            return st_fail(err, PN_E_INVALID, "endpoint path has a character not allowed");
    }
    memcpy(ep->path, p, pl);
    if (strstr(ep->path, "/../") || strstr(ep->path, "/./") ||
        (pl >= 3 && strcmp(ep->path + pl - 3, "/..") == 0))
        return st_fail(err, PN_E_INVALID, "endpoint path has a '.' or '..' segment");

    if (!allow_private) {
        unsigned char a[16];
        char lit[64];
        /* Cut, a host is longer than any IP literal and so parses as none. */
        (void)snprintf(lit, sizeof lit, "%.*s", ep->host[0] == '[' ? (int)strlen(ep->host) - 2 : 63,
                       ep->host + (ep->host[0] == '['));
        if ((inet_pton(AF_INET, lit, a) == 1 &&
             v4_blocked((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 |
                        a[3])) ||
            (inet_pton(AF_INET6, lit, a) == 1 && v6_blocked(a)) || is_localhost(lit))
            return st_fail(err, PN_E_INVALID, "endpoint address is not allowed");
    }
    return PN_OK;
}

void
st_endpoint_hostport(const st_endpoint_t *ep, char *out, size_t n)
{
    bool dflt = ep->port == 0 || (ep->port == 443 && strcmp(ep->scheme, "https") == 0) ||
                (ep->port == 80 && strcmp(ep->scheme, "http") == 0);
    int w = dflt ? snprintf(out, n, "%s", ep->host) : snprintf(out, n, "%s:%d", ep->host, ep->port);
    if (n > 0 && (w < 0 || (size_t)w >= n)) /* a cut host names another server: none fails */
        out[0] = '\0';
}

int
st_http_init(st_http_t *h, const st_opts_t *opts, st_err_t *err)
{
    h->opts = *opts;
    h->curl = curl_easy_init();
    return h->curl ? PN_OK : st_fail(err, PN_E_INTERNAL, "cannot create an HTTP client");
}

void
st_http_cleanup(st_http_t *h)
{
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    h->curl = NULL;
}

typedef struct guard {
    bool allow_private;
    st_http_req_t *r;
} guard_t;

static curl_socket_t
on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    guard_t *g = ud;
    (void)purpose;
    if (!g->allow_private && st_addr_blocked(&a->addr)) {
        g->r->blocked = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static bool
header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return false;
    const char *v = line + k + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return true;
}

static size_t
on_header(char *line, size_t size, size_t nitems, void *ud)
{
    st_http_req_t *r = ud;
    size_t n = size * nitems;
    const char *v;
    size_t vl;

    if (n > 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 100 Continue, say): forget the previous one's fields. */
        const char *sp = memchr(line, ' ', n);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        r->etag[0] = r->ctype[0] = '\0';
        r->content_length = -1;
        r->range_total = 0;
        r->range_start = 0;
    } else if (header_is(line, n, "ETag", &v, &vl)) {
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v++;
            vl -= 2;
        }
        /* A cut tag would be another object version's: one too long is left out (may be ""). */
        if (snprintf(r->etag, sizeof r->etag, "%.*s", (int)vl, v) >= (int)sizeof r->etag)
            r->etag[0] = '\0';
    } else if (header_is(line, n, "Content-Type", &v, &vl)) {
        if (snprintf(r->ctype, sizeof r->ctype, "%.*s", (int)vl, v) >= (int)sizeof r->ctype)
            r->ctype[0] = '\0';
    } else if (header_is(line, n, "Content-Length", &v, &vl)) {
        char tmp[32];
        /* Cut digits are another number: a length that does not fit stays unknown. */
        if (snprintf(tmp, sizeof tmp, "%.*s", (int)vl, v) < (int)sizeof tmp)
            r->content_length = strtoll(tmp, NULL, 10);
    } else if (header_is(line, n, "Content-Range", &v, &vl)) {
        const char *slash = memchr(v, '/', vl);
        char first[32];
        size_t skip = vl > 6 && strncasecmp(v, "bytes ", 6) == 0 ? 6 : 0;
        /* Only the leading number is read: cutting what follows it changes nothing. */
        (void)snprintf(first, sizeof first, "%.*s", (int)(vl - skip), v + skip);
        r->range_start = strtoull(first, NULL, 10);
        if (slash != NULL) {
            char tmp[32];
            if (snprintf(tmp, sizeof tmp, "%.*s", (int)(v + vl - slash - 1), slash + 1) <
                (int)sizeof tmp)
                r->range_total = strtoull(tmp, NULL, 10);
        }
    }
    return n;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    st_http_req_t *r = ud;
    size_t n = size * nmemb;

    if (r->sink != NULL && r->status >= 200 && r->status < 300) {
        const char *d = p;
        size_t dn = n;
        if (r->ranged && (r->status == 200 || r->status == 206)) {
            uint64_t base = r->status == 206 ? r->range_start : 0;
            uint64_t start = base + r->seen, end = base + r->seen + n;
            uint64_t lo = r->range_off, hi = r->range_len ? r->range_off + r->range_len : end;
            r->seen += n;
            if (end <= lo || start >= hi)
                return n;
            uint64_t a = start > lo ? start : lo, b = end < hi ? end : hi;
            d = p + (a - start);
            dn = (size_t)(b - a);
        }
        int rc = r->sink(r->sink_ud, d, dn);
        if (rc != PN_OK) {
            r->sink_rc = rc;
            return 0; /* curl stops with CURLE_WRITE_ERROR */
        }
        return n;
    }
    if (r->resp.len < RESP_CAP)
        st_buf_add(&r->resp, p, n < RESP_CAP - r->resp.len ? n : RESP_CAP - r->resp.len);
    return n;
}

static size_t
on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    st_http_req_t *r = ud;
    size_t n = size * nitems, left = r->body_len - r->body_off;
    if (n > left)
        n = left;
    if (n > 0)
        memcpy(buf, (const char *)r->body + r->body_off, n);
    r->body_off += n;
    return n;
}

/* Rewinding lets curl resend the body on a reused connection that the server had closed. */
static int
on_seek(void *ud, curl_off_t off, int origin)
{
    st_http_req_t *r = ud;
    if (origin != SEEK_SET || off < 0 || (size_t)off > r->body_len)
        return CURL_SEEKFUNC_FAIL;
    r->body_off = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

int
st_http_do(st_http_t *h, st_http_req_t *r, st_err_t *err)
{
    CURL *c = h->curl;
    guard_t g = {h->opts.allow_private, r};
    struct curl_slist *hdrs = r->headers;
    char errbuf[CURL_ERROR_SIZE] = "";

    r->status = 0;
    r->etag[0] = r->ctype[0] = '\0';
    r->content_length = -1;
    r->range_total = 0;
    r->range_start = 0;
    r->sink_rc = PN_OK;
    r->blocked = false;
    r->body_off = 0;
    r->seen = 0;
    st_buf_free(&r->resp);

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    /* No proxy from the environment: the guard must see the address really connected. */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->opts.connect_timeout);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->opts.io_timeout);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &g);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    /* curl would wait for "100 Continue" before big bodies; servers answer fine without. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (hdrs == NULL)
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    r->headers = hdrs;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, r);
        curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(c, CURLOPT_SEEKDATA, r);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
        if (strcmp(r->method, "POST") == 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
    }

    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        return PN_OK;
    if (cc == CURLE_WRITE_ERROR && r->sink_rc != PN_OK)
        return st_fail_cb(err, r->sink_rc, "download stopped by its sink");
    if (r->blocked)
        return st_fail(err, PN_E_UNAVAILABLE, "storage endpoint address is not allowed");
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return st_fail(err, PN_E_TIMEOUT, "storage endpoint timed out");
    return st_fail(err, PN_E_UNAVAILABLE, "storage endpoint unreachable: %s",
                   errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

void
st_http_req_done(st_http_req_t *r)
{
    st_buf_free(&r->resp);
}

bool
st_xml_get(const char *xml, const char *tag, char *out, size_t n)
{
    char open[80], close_[80];

    if (xml == NULL || n == 0)
        return false;
    if (snprintf(open, sizeof open, "<%s>", tag) >= (int)sizeof open ||
        snprintf(close_, sizeof close_, "</%s>", tag) >= (int)sizeof close_)
        return false;
    const char *a = strstr(xml, open);
    if (a == NULL)
        return false;
    a += strlen(open);
    const char *b = strstr(a, close_);
    if (b == NULL)
        return false;
    size_t o = 0;
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&quot;", '"'}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}};
    while (a < b) {
        char c = *a++;
        if (c == '&') {
            size_t i = 0;
            for (; i < sizeof ents / sizeof ents[0]; i++) {
                size_t el = strlen(ents[i].ent) - 1;
                if ((size_t)(b - a) >= el && memcmp(a, ents[i].ent + 1, el) == 0) {
                    c = ents[i].c;
                    a += el;
                    break;
                }
            }
        }
        if (o + 1 >= n)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

int
st_http_status_err(const st_http_req_t *r, const char *what, st_err_t *err)
{
    char code[64] = "";
    char raw[128];

    if (r->resp.s != NULL && st_xml_get(r->resp.s, "Code", raw, sizeof raw)) {
        size_t o = 0;
        for (const char *p = raw; *p && o + 1 < sizeof code; p++)
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
                code[o++] = *p;
        code[o] = '\0';
    }
    long s = r->status;
    if (s == 404)
        return st_fail(err, PN_E_NOTFOUND, "%s: not found%s%s", what, code[0] ? " " : "", code);
    if (s == 416)
        return st_fail(err, PN_E_RANGE, "range starts past the end of the object");
    if (s == 401 || s == 403)
        return st_fail(err, PN_E_UNAVAILABLE,
                       "%s: the storage provider refused the request (HTTP %ld%s%s); check the "
                       "credentials",
                       what, s, code[0] ? " " : "", code);
    if (s == 408 || s == 429 || s >= 500)
        return st_fail(err, PN_E_UNAVAILABLE, "%s: the storage provider failed (HTTP %ld%s%s)",
                       what, s, code[0] ? " " : "", code);
    return st_fail(err, PN_E_INTERNAL,
                   "%s: the storage provider rejected the request (HTTP %ld%s%s)", what, s,
                   code[0] ? " " : "", code);
}
