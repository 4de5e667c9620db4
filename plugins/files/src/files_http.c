/*
 * Range, If-None-Match, Content-Disposition and tus metadata (files_http.h).
 */
#include "files_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool
digits(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;

    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return true;
}

files_range_t
files_range_parse(const char *hdr, uint64_t size, uint64_t *off, uint64_t *len)
{
    uint64_t a, b;

    if (hdr == NULL || strncmp(hdr, "bytes=", 6) != 0)
        return FILES_RANGE_NONE;
    const char *spec = hdr + 6;
    while (*spec == ' ')
        spec++;
    if (strchr(spec, ',') != NULL)
        return FILES_RANGE_NONE; /* several ranges: served whole, which RFC 9110 allows */
    size_t n = strlen(spec);
    while (n > 0 && spec[n - 1] == ' ')
        n--;
    const char *dash = memchr(spec, '-', n);
    if (dash == NULL)
        return FILES_RANGE_NONE;
    size_t la = (size_t)(dash - spec), lb = n - la - 1;
    if (la == 0) { /* suffix: the last b bytes */
        if (!digits(dash + 1, lb, &b))
            return FILES_RANGE_NONE;
        if (b == 0 || size == 0)
            return FILES_RANGE_UNSAT;
        if (b > size)
            b = size;
        *off = size - b;
        *len = b;
        return FILES_RANGE_OK;
    }
    if (!digits(spec, la, &a))
        return FILES_RANGE_NONE;
    if (lb == 0) {
        b = UINT64_MAX;
    } else if (!digits(dash + 1, lb, &b) || b < a) {
        return FILES_RANGE_NONE;
    }
    if (a >= size)
        return FILES_RANGE_UNSAT;
    if (b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return FILES_RANGE_OK;
}

bool
files_etag_match(const char *inm, const char *etag)
{
    size_t el = strlen(etag);

    if (inm == NULL)
        return false;
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*' && (p[1] == '\0' || p[1] == ',' || p[1] == ' '))
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, el) == 0 && (p[el] == '\0' || p[el] == ',' || p[el] == ' '))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

void
files_disposition(const char *type, const char *name, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    int n = snprintf(out, cap, "%s; filename=\"", type);

    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return;
    }
    o = (size_t)n;
    /* ASCII fallback for old clients: anything outside printable ASCII, quotes, backslashes
     * and percent signs (which some clients decode) become '_'. */
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 2 < cap; p++)
        out[o++] =
            (char)((*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '%') ? '_' : *p);
    n = snprintf(out + o, cap - o, "\"; filename*=UTF-8''");
    if (n < 0 || (size_t)n >= cap - o) {
        out[0] = '\0';
        return;
    }
    o += (size_t)n;
    /* RFC 8187 attr-char is the only set left unencoded. */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p) != NULL;
        if (o + 4 >= cap)
            break;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

static int
b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long
files_b64_decode(const char *in, size_t n, unsigned char *out)
{
    size_t o = 0;

    if (n % 4 != 0)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)in[i + k];
            if (c == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad || (v[k] = b64val(c)) < 0)
                return -1;
        }
        uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) |
                     (uint32_t)v[3];
        /* non-canonical trailing bits are refused, so one value has one encoding */
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            return -1;
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(w >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)w;
    }
    out[o] = '\0';
    return (long)o;
}

int
files_tus_metadata(const char *hdr, int (*fn)(void *, const char *, const char *, size_t), void *ud)
{
    char keys[32][64];
    int nkeys = 0;

    if (hdr == NULL)
        return 0;
    for (const char *p = hdr; *p;) {
        while (*p == ' ')
            p++;
        size_t pair = strcspn(p, ",");
        const char *sp = memchr(p, ' ', pair);
        size_t kl = sp ? (size_t)(sp - p) : pair;
        if (kl == 0 || kl >= 64 || nkeys == 32)
            return -1;
        for (size_t i = 0; i < kl; i++)
            if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f || p[i] == ',')
                return -1;
        memcpy(keys[nkeys], p, kl);
        keys[nkeys][kl] = '\0';
        for (int k = 0; k < nkeys; k++)
            if (strcmp(keys[k], keys[nkeys]) == 0)
                return -1;
        const char *v = sp ? sp + 1 : p + kl;
        size_t vl = sp ? pair - kl - 1 : 0;
        unsigned char *buf = malloc(vl / 4 * 3 + 4);
        if (buf == NULL)
            return -1;
        long dl = vl ? files_b64_decode(v, vl, buf) : 0;
        if (dl < 0) {
            free(buf);
            return -1;
        }
        buf[dl] = '\0';
        int rc = fn(ud, keys[nkeys], (const char *)buf, (size_t)dl);
        free(buf);
        if (rc != 0)
            return -1;
        nkeys++;
        p += pair;
        if (*p == ',')
            p++;
    }
    return 0;
}

void
files_http_date(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    (void)strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}
