/*
 * The strict streaming multipart/form-data parser declared in files_multipart.h: a byte-level
 * state machine, so a body split anywhere gives the same parts as the body fed whole.
 */
#include "files_multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    ST_FIRST,    /* matching the first "--boundary" */
    ST_AFTER,    /* after a delimiter: CRLF (a part) or "--" (the end) */
    ST_AFTER_CR, /* saw CR after a delimiter */
    ST_AFTER_DASH,
    ST_HEADERS,
    ST_DATA,
    ST_CLOSED, /* after the close delimiter: nothing, or CRLF and an ignored epilogue */
    ST_CLOSED_CR,
    ST_EPILOGUE,
    ST_ERROR,
};

struct files_mp {
    files_mp_callbacks_t cb;
    void *ud;
    int state;
    char delim[4 + FILES_MP_MAX_BOUNDARY + 1]; /* "\r\n--" boundary */
    size_t dlen;
    size_t m; /* delimiter bytes matched so far */
    int nparts;
    /* The current part's header block; strings of files_mp_part_t point into it. */
    char head[FILES_MP_MAX_HEAD + 1];
    char sbuf[FILES_MP_MAX_HEAD + 1]; /* decoded parameter values */
    size_t slen;
    size_t hlen, line_start;
    int nheaders;
    files_mp_part_t part;
    bool have_cd, have_ct, in_part;
    char err[96];
};

static bool
bchar(unsigned char c)
{
    /* RFC 2046 bcharsnospace plus space */
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

static bool
tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
boundary_ok(const char *b, size_t n)
{
    if (n < 1 || n > FILES_MP_MAX_BOUNDARY || b[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!bchar((unsigned char)b[i]))
            return false;
    return true;
}

int
files_mp_boundary(const char *ct, char out[FILES_MP_MAX_BOUNDARY + 1])
{
    static const char type[] = "multipart/form-data";
    const char *p;

    if (ct == NULL || strncasecmp(ct, type, sizeof type - 1) != 0)
        return -1;
    p = ct + sizeof type - 1;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != ';')
            return -1;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *name = p;
        while (tchar((unsigned char)*p))
            p++;
        size_t nl = (size_t)(p - name);
        if (nl == 0 || *p != '=')
            return -1;
        p++;
        char val[FILES_MP_MAX_BOUNDARY + 1];
        size_t vl = 0;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (vl >= FILES_MP_MAX_BOUNDARY)
                    return -1;
                val[vl++] = *p;
            }
            if (*p != '"')
                return -1;
            p++;
        } else {
            while (tchar((unsigned char)*p)) {
                if (vl >= FILES_MP_MAX_BOUNDARY)
                    return -1;
                val[vl++] = *p++;
            }
        }
        val[vl] = '\0';
        if (nl == 8 && strncasecmp(name, "boundary", 8) == 0) {
            if (!boundary_ok(val, vl))
                return -1;
            memcpy(out, val, vl + 1);
            /* A second boundary parameter would be ambiguous. */
            for (const char *q = p; *q; q++)
                if (strncasecmp(q, "boundary=", 9) == 0)
                    return -1;
            return 0;
        }
    }
    return -1;
}

files_mp_t *
files_mp_new(const char *boundary, const files_mp_callbacks_t *cb, void *ud)
{
    size_t n = boundary ? strlen(boundary) : 0;
    files_mp_t *p;

    if (!boundary_ok(boundary ? boundary : "", n) || cb == NULL)
        return NULL;
    if ((p = calloc(1, sizeof *p)) == NULL)
        return NULL;
    p->cb = *cb;
    p->ud = ud;
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, boundary, n);
    p->dlen = 4 + n;
    p->m = 2; /* the body starts at "--": the leading CRLF is implied */
    p->state = ST_FIRST;
    p->err[0] = '\0';
    return p;
}

void
files_mp_free(files_mp_t *p)
{
    free(p);
}

const char *
files_mp_error(const files_mp_t *p)
{
    return p->err;
}

static int
fail(files_mp_t *p, const char *why)
{
    if (p->state != ST_ERROR)
        (void)snprintf(p->err, sizeof p->err, "%s", why);
    p->state = ST_ERROR;
    return -1;
}

/* Copy a parameter value (token or quoted-string) starting at *pp into the part's string
 * buffer, NUL-terminated; *pp moves past it. NULL when malformed. */
static char *
param_value(files_mp_t *p, const char **pp)
{
    const char *s = *pp;
    char *start = p->sbuf + p->slen, *out = start;
    char *end = p->sbuf + sizeof p->sbuf - 1;

    if (*s == '"') {
        for (s++;; s++) {
            unsigned char c = (unsigned char)*s;
            if (c == '\0')
                return NULL;
            if (c == '"')
                break;
            if (c == '\\' && (c = (unsigned char)*++s) == '\0')
                return NULL;
            if ((c < 0x20 && c != '\t') || c == 0x7f || out >= end)
                return NULL;
            *out++ = (char)c;
        }
        s++;
    } else {
        while ((tchar((unsigned char)*s) || *s == '%') && out < end)
            *out++ = *s++;
        if (out == start || out >= end)
            return NULL;
    }
    *out++ = '\0';
    p->slen = (size_t)(out - p->sbuf);
    *pp = s;
    return start;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 8187 ext-value, UTF-8 only, decoded in place. */
static char *
ext_value(char *v)
{
    char *q = strchr(v, '\'');
    if (q == NULL || (size_t)(q - v) != 5 || strncasecmp(v, "utf-8", 5) != 0)
        return NULL;
    char *lang_end = strchr(q + 1, '\'');
    if (lang_end == NULL)
        return NULL;
    char *in = lang_end + 1, *out = v;
    for (; *in; in++) {
        if (*in == '%') {
            int hi = hexval(in[1]), lo = hi >= 0 ? hexval(in[2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0))
                return NULL;
            *out++ = (char)(hi * 16 + lo);
            in += 2;
        } else if (tchar((unsigned char)*in)) {
            *out++ = *in;
        } else {
            return NULL;
        }
    }
    *out = '\0';
    return v;
}

static int
parse_disposition(files_mp_t *p, const char *v)
{
    const char *name = NULL, *filename = NULL, *filename_ext = NULL;
    const char *s = v;

    while (tchar((unsigned char)*s))
        s++;
    if ((size_t)(s - v) != 9 || strncasecmp(v, "form-data", 9) != 0)
        return fail(p, "part disposition is not form-data");
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0')
            break;
        if (*s != ';')
            return fail(p, "malformed Content-Disposition");
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        const char *pn = s;
        while (tchar((unsigned char)*s))
            s++;
        size_t pl = (size_t)(s - pn);
        if (pl == 0 || *s != '=')
            return fail(p, "malformed Content-Disposition parameter");
        s++;
        char *val = param_value(p, &s);
        if (val == NULL)
            return fail(p, "malformed Content-Disposition value");
        const char **slot = NULL;
        if (pl == 4 && strncasecmp(pn, "name", 4) == 0)
            slot = &name;
        else if (pl == 8 && strncasecmp(pn, "filename", 8) == 0)
            slot = &filename;
        else if (pl == 9 && strncasecmp(pn, "filename*", 9) == 0) {
            slot = &filename_ext;
            if ((val = ext_value(val)) == NULL)
                return fail(p, "malformed filename*");
        }
        if (slot) {
            if (*slot)
                return fail(p, "repeated Content-Disposition parameter");
            *slot = val;
        }
    }
    if (name == NULL)
        return fail(p, "part without a name");
    p->part.name = name;
    p->part.filename = filename_ext ? filename_ext : filename;
    return 0;
}

static int
header_line(files_mp_t *p, char *line)
{
    char *colon = line;

    while (tchar((unsigned char)*colon))
        colon++;
    if (colon == line || *colon != ':')
        return fail(p, "malformed part header");
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vl = strlen(v);
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        v[--vl] = '\0';
    for (size_t i = 0; i < vl; i++)
        if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
            return fail(p, "control character in a part header");
    if (strcasecmp(line, "content-disposition") == 0) {
        if (p->have_cd)
            return fail(p, "repeated Content-Disposition");
        p->have_cd = true;
        return parse_disposition(p, v);
    }
    if (strcasecmp(line, "content-type") == 0) {
        if (p->have_ct)
            return fail(p, "repeated Content-Type");
        p->have_ct = true;
        p->part.content_type = v;
    }
    return 0;
}

static void
begin_headers(files_mp_t *p)
{
    p->hlen = p->line_start = 0;
    p->nheaders = 0;
    p->have_cd = p->have_ct = false;
    p->slen = 0;
    memset(&p->part, 0, sizeof p->part);
    p->state = ST_HEADERS;
}

/* One header byte. */
static int
head_byte(files_mp_t *p, char c)
{
    if (p->hlen > 0 && p->head[p->hlen - 1] == '\r' && c != '\n')
        return fail(p, "bare CR in part headers");
    if (c == '\n') {
        if (p->hlen == 0 || p->head[p->hlen - 1] != '\r')
            return fail(p, "bare LF in part headers");
        p->head[p->hlen - 1] = '\0';
        if (p->hlen - 1 == p->line_start) { /* empty line: end of the headers */
            if (!p->have_cd)
                return fail(p, "part without Content-Disposition");
            p->state = ST_DATA;
            p->m = 0;
            p->in_part = true;
            if (p->cb.on_part && p->cb.on_part(p->ud, &p->part) != 0)
                return fail(p, "stopped");
            return 0;
        }
        if (++p->nheaders > FILES_MP_MAX_HEADERS)
            return fail(p, "too many part headers");
        if (header_line(p, p->head + p->line_start) != 0)
            return -1;
        p->line_start = p->hlen;
        return 0;
    }
    if (c == '\0')
        return fail(p, "NUL in part headers");
    if (p->hlen >= FILES_MP_MAX_HEAD)
        return fail(p, "part headers too large");
    p->head[p->hlen++] = c;
    return 0;
}

static int
emit(files_mp_t *p, const char *d, size_t n)
{
    if (n && p->cb.on_data && p->cb.on_data(p->ud, d, n) != 0)
        return fail(p, "stopped");
    return 0;
}

/* Body bytes of a part: everything up to the next "\r\n--boundary". Bytes that may start the
 * delimiter are held back (p->m of them). They always equal the delimiter's first p->m bytes,
 * so when the match fails they are emitted from the delimiter copy, wherever they arrived.
 * Because '\r' occurs in the delimiter only at its start, matching restarts at the byte that
 * broke it. Returns bytes consumed, or -1. */
static long
data_run(files_mp_t *p, const char *buf, size_t len)
{
    size_t i = 0, run = 0; /* buf[run, i) is pending plain data */

    while (i < len) {
        if (p->m == 0) {
            const char *cr = memchr(buf + i, '\r', len - i);
            if (cr == NULL) {
                i = len;
                break;
            }
            i = (size_t)(cr - buf);
            if (emit(p, buf + run, i - run) != 0)
                return -1;
            p->m = 1;
            run = ++i;
            continue;
        }
        if (buf[i] != p->delim[p->m]) {
            if (emit(p, p->delim, p->m) != 0)
                return -1;
            p->m = 0;
            run = i;
            continue;
        }
        p->m++;
        run = ++i;
        if (p->m == p->dlen) {
            p->m = 0;
            p->in_part = false;
            p->state = ST_AFTER;
            if (p->cb.on_part_end && p->cb.on_part_end(p->ud) != 0)
                return fail(p, "stopped");
            return (long)i;
        }
    }
    if (emit(p, buf + run, i - run) != 0)
        return -1;
    return (long)len;
}

int
files_mp_feed(files_mp_t *p, const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len) {
        char c = buf[i];
        switch (p->state) {
        case ST_ERROR:
            return -1;
        case ST_FIRST:
            if (c != p->delim[p->m])
                return fail(p, "body does not start with the boundary");
            i++;
            if (++p->m == p->dlen) {
                p->m = 0;
                p->state = ST_AFTER;
            }
            break;
        case ST_AFTER:
            i++;
            if (c == '\r')
                p->state = ST_AFTER_CR;
            else if (c == '-')
                p->state = ST_AFTER_DASH;
            else
                return fail(p, "junk after a boundary");
            break;
        case ST_AFTER_CR:
            i++;
            if (c != '\n')
                return fail(p, "junk after a boundary");
            if (++p->nparts > FILES_MP_MAX_PARTS)
                return fail(p, "too many parts");
            begin_headers(p);
            break;
        case ST_AFTER_DASH:
            i++;
            if (c != '-')
                return fail(p, "junk after a boundary");
            p->state = ST_CLOSED;
            break;
        case ST_HEADERS:
            i++;
            if (head_byte(p, c) != 0)
                return -1;
            break;
        case ST_DATA: {
            long used = data_run(p, buf + i, len - i);
            if (used < 0)
                return -1;
            i += (size_t)used;
            break;
        }
        case ST_CLOSED:
            i++;
            if (c != '\r')
                return fail(p, "junk after the final boundary");
            p->state = ST_CLOSED_CR;
            break;
        case ST_CLOSED_CR:
            i++;
            if (c != '\n')
                return fail(p, "junk after the final boundary");
            p->state = ST_EPILOGUE;
            break;
        case ST_EPILOGUE:
            return 0; /* ignored, as RFC 2046 says */
        }
    }
    return p->state == ST_ERROR ? -1 : 0;
}

int
files_mp_finish(files_mp_t *p)
{
    if (p->state == ST_CLOSED || p->state == ST_EPILOGUE)
        return 0;
    if (p->state != ST_ERROR)
        fail(p, "body ends before the final boundary");
    return -1;
}
