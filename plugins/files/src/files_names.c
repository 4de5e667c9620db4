/*
 * Filename cleaning, tag names, uuid checks and content-type classes (files_names.h).
 */
#include "files_names.h"

#include <string.h>
#include <strings.h>

/* Length of the UTF-8 sequence at s (at most n bytes) and its code point, or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, c &= 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

bool
files_utf8_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned cp;

    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq(u + i, n - i, &cp);
        if (l == 0 || cp == 0)
            return false;
        i += l;
    }
    return true;
}

static bool
replaced(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
           /* bidi embeddings, overrides and isolates, which make "exe.txt" look harmless */
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
           cp == 0x200f || cp == 0x061c || cp == 0xfeff ||
           (cp < 0x80 && strchr("<>:\"|?*", (int)cp) != NULL);
}

void
files_clean_filename(const char *in, size_t len, char out[FILES_NAME_MAX + 1])
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t start = 0, o = 0;
    unsigned cp;

    if (in == NULL)
        len = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/' || s[i] == '\\')
            start = i + 1;
    for (size_t i = start; i < len;) {
        size_t l = utf8_seq(s + i, len - i, &cp);
        const char *piece;
        size_t pl;
        if (l == 0 || replaced(cp)) {
            piece = "_";
            pl = 1;
            i += l ? l : 1;
        } else {
            piece = (const char *)s + i;
            pl = l;
            i += l;
        }
        if (o + pl > FILES_NAME_MAX)
            break;
        memcpy(out + o, piece, pl);
        o += pl;
    }
    out[o] = '\0';
    /* Trim spaces and dots at both ends: no hidden files, no "name." that Windows drops. */
    size_t b = 0;
    while (out[b] == ' ' || out[b] == '.')
        b++;
    while (o > b && (out[o - 1] == ' ' || out[o - 1] == '.'))
        o--;
    memmove(out, out + b, o - b);
    out[o - b] = '\0';
    if (out[0] == '\0')
        memcpy(out, "file", 5);
}

bool
files_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

int
files_tag_name(const char *in, char out[101])
{
    size_t n, b = 0;

    if (in == NULL)
        return -1;
    n = strlen(in);
    while (b < n && (in[b] == ' ' || in[b] == '\t'))
        b++;
    while (n > b && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    if (n == b || n - b > 100 || !files_utf8_ok(in + b, n - b))
        return -1;
    for (size_t i = b; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x20 || c == 0x7f || c == ',')
            return -1;
        out[i - b] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    out[n - b] = '\0';
    return 0;
}

static bool
type_is(const char *ct, const char *t)
{
    size_t n = strlen(t);
    return strncasecmp(ct, t, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

const char *
files_type_of(const char *ct)
{
    if (ct == NULL)
        return "other";
    if (strncasecmp(ct, "image/", 6) == 0)
        return "image";
    if (strncasecmp(ct, "video/", 6) == 0)
        return "video";
    if (strncasecmp(ct, "audio/", 6) == 0)
        return "audio";
    if (type_is(ct, "application/pdf") || strncasecmp(ct, "text/plain", 10) == 0 ||
        strncasecmp(ct, "application/vnd.openxmlformats", 30) == 0 ||
        type_is(ct, "application/msword"))
        return "document";
    if (type_is(ct, "application/zip") || type_is(ct, "application/gzip") ||
        type_is(ct, "application/x-tar") || type_is(ct, "application/x-7z-compressed") ||
        type_is(ct, "application/vnd.rar") || type_is(ct, "application/x-bzip2") ||
        type_is(ct, "application/x-xz") || type_is(ct, "application/zstd"))
        return "archive";
    if (files_is_active_type(ct) || type_is(ct, "application/json") ||
        type_is(ct, "application/wasm"))
        return "code";
    if (type_is(ct, "text/csv") || type_is(ct, "application/vnd.sqlite3"))
        return "data";
    if (strncasecmp(ct, "text/", 5) == 0)
        return "document";
    return "other";
}

bool
files_is_active_type(const char *ct)
{
    static const char *const active[] = {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
        "text/xsl",
        "application/xslt+xml",
        "application/x-shockwave-flash",
        "text/vtt",
        "application/pdf",
        NULL,
    };

    if (ct == NULL)
        return true;
    for (const char *const *a = active; *a; a++)
        if (type_is(ct, *a))
            return true;
    /* any other +xml type can carry script too */
    const char *semi = strchr(ct, ';');
    size_t n = semi ? (size_t)(semi - ct) : strlen(ct);
    return n >= 4 && strncasecmp(ct + n - 4, "+xml", 4) == 0;
}
