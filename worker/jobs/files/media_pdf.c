/* PDF facts without a PDF library (libvips' poppler loader is untrusted and blocked): version,
 * page count from the page tree's /Count, encryption, and the /Info strings, read with a small
 * bounded tokenizer over the mapped file. Objects are found by their "N G obj" header, last one
 * wins (incremental updates), or inside a Flate object stream; nothing is ever rendered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "media.h"

#define MAX_DEPTH 32
#define MAX_OBJSTM 256         /* object streams inflated looking for one object */
#define MAX_INFLATE (8u << 20) /* bytes inflated in all */
#define MAX_STR 2048           /* bytes kept of one string */

typedef struct buf {
    const uint8_t *p;
    size_t n;
} buf_t;

typedef struct pdf {
    buf_t f;
    struct {
        size_t at; /* the stream's dictionary in f */
        uint8_t *p;
        size_t n;
    } stm[MAX_OBJSTM];
    int nstm;
    size_t inflated_total;
} pdf_t;

enum { V_NONE, V_INT, V_REF, V_STR, V_HEX, V_DICT, V_OTHER };

typedef struct val {
    int type;
    long long num, gen;
    size_t at, end; /* span in the buffer (strings without delimiters, dicts with them) */
} val_t;

static bool
ws(uint8_t c)
{
    return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static bool
delim(uint8_t c)
{
    return ws(c) || strchr("()<>[]{}/%", c) != NULL;
}

static size_t
skip_ws(const buf_t *b, size_t i)
{
    while (i < b->n) {
        if (ws(b->p[i]))
            i++;
        else if (b->p[i] == '%')
            while (i < b->n && b->p[i] != '\n' && b->p[i] != '\r')
                i++;
        else
            break;
    }
    return i;
}

static bool
integer(const buf_t *b, size_t *i, long long *v)
{
    size_t j = *i;
    bool neg = j < b->n && (b->p[j] == '-' || b->p[j] == '+') && b->p[j++] == '-';
    long long x = 0;
    size_t start = j;
    while (j < b->n && b->p[j] >= '0' && b->p[j] <= '9' && j - start < 12)
        x = x * 10 + (b->p[j++] - '0');
    if (j == start || (j < b->n && !delim(b->p[j])))
        return false;
    *v = neg ? -x : x, *i = j;
    return true;
}

/* One value at i (after white space); *i moves past it. false on malformed or too deep. */
static bool
value(const buf_t *b, size_t *i, val_t *v, int depth)
{
    size_t j = skip_ws(b, *i);
    memset(v, 0, sizeof *v);
    if (j >= b->n || depth > MAX_DEPTH)
        return false;
    uint8_t c = b->p[j];
    v->at = j;
    if (c == '(') {
        int nest = 1;
        for (j++; j < b->n && nest; j++) {
            if (b->p[j] == '\\')
                j++;
            else if (b->p[j] == '(')
                nest++;
            else if (b->p[j] == ')')
                nest--;
        }
        if (nest)
            return false;
        v->type = V_STR, v->at++, v->end = j - 1;
    } else if (c == '<' && j + 1 < b->n && b->p[j + 1] == '<') {
        for (j += 2;;) {
            j = skip_ws(b, j);
            if (j + 1 < b->n && b->p[j] == '>' && b->p[j + 1] == '>')
                break;
            val_t k;
            if (!value(b, &j, &k, depth + 1))
                return false;
        }
        v->type = V_DICT, j += 2, v->end = j;
    } else if (c == '<') {
        const uint8_t *e = memchr(b->p + j, '>', b->n - j);
        if (!e)
            return false;
        v->type = V_HEX, v->at++, v->end = (size_t)(e - b->p), j = v->end + 1;
    } else if (c == '[') {
        for (j++;;) {
            j = skip_ws(b, j);
            if (j < b->n && b->p[j] == ']')
                break;
            val_t k;
            if (!value(b, &j, &k, depth + 1))
                return false;
        }
        v->type = V_OTHER, j++, v->end = j;
    } else if (c == '/' || (c >= 'a' && c <= 'z') ||
               c == '.') { /* NOLINT(bugprone-branch-clone): a number must try integer() first */
        for (j++; j < b->n && !delim(b->p[j]); j++)
            ;
        v->type = V_OTHER, v->end = j;
    } else if (integer(b, &j, &v->num)) {
        /* "N G R" is a reference; otherwise a plain integer. */
        size_t k = skip_ws(b, j);
        long long g;
        if (integer(b, &k, &g) && (k = skip_ws(b, k)) < b->n && b->p[k] == 'R' &&
            (k + 1 >= b->n || delim(b->p[k + 1])))
            v->type = V_REF, v->gen = g, j = k + 1;
        else
            v->type = V_INT;
        v->end = j;
    } else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
        for (j++; j < b->n && !delim(b->p[j]); j++) /* a real */
            ;
        v->type = V_OTHER, v->end = j;
    } else {
        return false;
    }
    *i = j;
    return true;
}

/* The value of /key in the dictionary spanning d; false when absent. */
static bool
dict_get(const buf_t *b, const val_t *d, const char *key, val_t *out)
{
    if (d->type != V_DICT)
        return false;
    size_t kl = strlen(key), i = d->at + 2;
    buf_t in = {b->p, d->end - 2};
    for (;;) {
        i = skip_ws(&in, i);
        if (i >= in.n || in.p[i] != '/')
            return false;
        size_t k = i + 1;
        while (k < in.n && !delim(in.p[k]))
            k++;
        bool match = k - i - 1 == kl && !memcmp(in.p + i + 1, key, kl);
        i = k;
        if (!value(&in, &i, out, 1))
            return false;
        if (match)
            return true;
    }
}

static bool
is_name(const buf_t *b, const val_t *v, const char *name)
{
    size_t n = strlen(name);
    return v->type == V_OTHER && v->end - v->at == n && !memcmp(b->p + v->at, name, n);
}

/* Object num's body in buffer b, the last "num gen obj" header in it. */
static bool
find_plain(const buf_t *b, long long num, long long gen, val_t *out)
{
    char pat[48];
    int pl = snprintf(pat, sizeof pat, "%lld %lld obj", num, gen);
    size_t best = SIZE_MAX, i = 0;
    while (i < b->n) {
        const uint8_t *m = memmem(b->p + i, b->n - i, pat, (size_t)pl);
        if (!m)
            break;
        size_t at = (size_t)(m - b->p);
        if ((at == 0 || delim(b->p[at - 1])) && (at + pl >= b->n || delim(b->p[at + pl])))
            best = at + (size_t)pl;
        i = at + 1;
    }
    if (best == SIZE_MAX)
        return false;
    return value(b, &best, out, 0);
}

/* Inflate an object stream (Flate only), bounded by what is left of MAX_INFLATE; kept for the
 * next lookup. */
static uint8_t *
inflate_stream(pdf_t *pdf, const val_t *dict, size_t *outn)
{
    const buf_t *b = &pdf->f;
    for (int k = 0; k < pdf->nstm; k++)
        if (pdf->stm[k].at == dict->at) {
            *outn = pdf->stm[k].n;
            return pdf->stm[k].p;
        }
    val_t len, filter;
    if (!dict_get(b, dict, "Length", &len) || len.type != V_INT || len.num <= 0 ||
        !dict_get(b, dict, "Filter", &filter) || !is_name(b, &filter, "/FlateDecode"))
        return NULL;
    size_t i = skip_ws(b, dict->end);
    if (b->n - i < 6 || memcmp(b->p + i, "stream", 6) != 0)
        return NULL;
    i += 6;
    i += i < b->n && b->p[i] == '\r';
    i += i < b->n && b->p[i] == '\n';
    if ((unsigned long long)len.num > b->n - i || pdf->nstm >= MAX_OBJSTM)
        return NULL;
    size_t cap = MAX_INFLATE - pdf->inflated_total;
    uint8_t *out = cap ? malloc(cap < 4096 ? 4096 : cap) : NULL;
    if (!out)
        return NULL;
    z_stream z = {0};
    if (inflateInit(&z) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)(b->p + i), z.avail_in = (uInt)len.num;
    z.next_out = out, z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_FINISH);
    *outn = z.total_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        free(out);
        return NULL;
    }
    /* Give back what the stream did not use. */
    uint8_t *shrunk = realloc(out, *outn ? *outn : 1);
    out = shrunk ? shrunk : out;
    pdf->inflated_total += *outn;
    pdf->stm[pdf->nstm].at = dict->at, pdf->stm[pdf->nstm].n = *outn;
    return pdf->stm[pdf->nstm++].p = out;
}

/* Object num inside one of the file's object streams; *in is set to the buffer it lives in. */
static bool
find_in_objstm(pdf_t *pdf, long long num, buf_t *in, val_t *out)
{
    const buf_t *b = &pdf->f;
    size_t i = 0;
    while (i < b->n) {
        const uint8_t *m = memmem(b->p + i, b->n - i, "/ObjStm", 7);
        if (!m)
            return false;
        i = (size_t)(m - b->p) + 7;
        /* Back to the "<<" of the dictionary holding this name (within a small window). */
        size_t lo = i > 512 ? i - 512 : 0;
        val_t dict = {0}, n, first;
        bool ok = false;
        for (size_t k = i - 7; k > lo && !ok; k--) {
            size_t at = k - 1;
            ok = b->p[k - 1] == '<' && b->p[k] == '<' && value(b, &at, &dict, 0) &&
                 dict.type == V_DICT && dict.end >= i && dict_get(b, &dict, "N", &n) &&
                 dict_get(b, &dict, "First", &first);
        }
        if (!ok || n.type != V_INT || first.type != V_INT || n.num <= 0 || first.num < 0)
            continue;
        size_t sn;
        uint8_t *s = inflate_stream(pdf, &dict, &sn);
        if (!s)
            continue;
        buf_t sb = {s, sn};
        size_t j = 0;
        for (long long k = 0; k < n.num && k < 100000; k++) {
            long long on, off;
            j = skip_ws(&sb, j);
            if (!integer(&sb, &j, &on) || (j = skip_ws(&sb, j), !integer(&sb, &j, &off)))
                break;
            if (on != num)
                continue;
            if (off < 0 || (unsigned long long)first.num + (unsigned long long)off >= sn)
                break;
            size_t o = (size_t)(first.num + off);
            *in = sb;
            return value(&sb, &o, out, 0);
        }
    }
    return false;
}

/* Follow a reference (or take a direct value): *in is the buffer the result's span is in. */
static bool
resolve(pdf_t *pdf, const buf_t *from, const val_t *v, buf_t *in, val_t *out)
{
    if (v->type != V_REF) {
        *in = *from, *out = *v;
        return true;
    }
    *in = pdf->f;
    return find_plain(&pdf->f, v->num, v->gen, out) || find_in_objstm(pdf, v->num, in, out);
}

/* The trailer: the last "trailer" dictionary, or the cross-reference stream's dictionary at
 * the last startxref. */
static bool
trailer(pdf_t *pdf, val_t *t)
{
    const buf_t *b = &pdf->f;
    for (size_t i = b->n; i > 7; i--) {
        if (memcmp(b->p + i - 7, "trailer", 7) != 0)
            continue;
        size_t at = i;
        if (value(b, &at, t, 0) && t->type == V_DICT)
            return true;
        break;
    }
    for (size_t i = b->n; i > 9; i--) {
        if (memcmp(b->p + i - 9, "startxref", 9) != 0)
            continue;
        size_t at = skip_ws(b, i);
        long long off, num, gen;
        if (!integer(b, &at, &off) || off < 0 || (unsigned long long)off >= b->n)
            return false;
        at = (size_t)off;
        if (!integer(b, &at, &num) || (at = skip_ws(b, at), !integer(b, &at, &gen)))
            return false;
        at = skip_ws(b, at);
        if (b->n - at < 3 || memcmp(b->p + at, "obj", 3) != 0)
            return false;
        at += 3;
        return value(b, &at, t, 0) && t->type == V_DICT;
    }
    return false;
}

static size_t
put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80)
        return o[0] = (char)cp, 1;
    if (cp < 0x800)
        return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
               o[2] = (char)(0x80 | (cp & 0x3f)), 3;
    return o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
           o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f)), 4;
}

static int
hexval(uint8_t c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A string's bytes (escapes or hex undone), then as UTF-8: UTF-16BE with its BOM, UTF-8 with
 * its BOM, else PDFDocEncoding taken as Latin-1. Cleaned into out. */
static void
string_of(const buf_t *b, const val_t *v, char *out, size_t cap)
{
    uint8_t raw[MAX_STR];
    size_t n = 0;
    if (v->type == V_HEX) {
        int hi = -1;
        for (size_t i = v->at; i < v->end && n < sizeof raw; i++) {
            int h = hexval(b->p[i]);
            if (h < 0)
                continue;
            if (hi < 0)
                hi = h;
            else
                raw[n++] = (uint8_t)(hi << 4 | h), hi = -1;
        }
        if (hi >= 0 && n < sizeof raw)
            raw[n++] = (uint8_t)(hi << 4);
    } else {
        for (size_t i = v->at; i < v->end && n < sizeof raw; i++) {
            uint8_t c = b->p[i];
            if (c != '\\' || i + 1 >= v->end) {
                raw[n++] = c;
                continue;
            }
            c = b->p[++i];
            if (c >= '0' && c <= '7') {
                int x = 0;
                for (int k = 0; k < 3 && i < v->end && b->p[i] >= '0' && b->p[i] <= '7'; k++)
                    x = x * 8 + (b->p[i++] - '0');
                i--;
                raw[n++] = (uint8_t)x;
            } else if (c == '\r' || c == '\n') {
                if (c == '\r' && i + 1 < v->end && b->p[i + 1] == '\n')
                    i++; /* a line continuation */
            } else {
                const char *e = strchr("n\nr\rt\tb\bf\f", c);
                raw[n++] = c && e && (e - "n\nr\rt\tb\bf\f") % 2 == 0 ? (uint8_t)e[1] : c;
            }
        }
    }
    char u[MAX_STR * 2];
    size_t m = 0;
    if (n >= 2 && raw[0] == 0xfe && raw[1] == 0xff) {
        for (size_t i = 2; i + 1 < n && m + 4 < sizeof u; i += 2) {
            unsigned cp = (unsigned)raw[i] << 8 | raw[i + 1];
            if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < n) {
                unsigned lo = (unsigned)raw[i + 2] << 8 | raw[i + 3];
                if (lo >= 0xdc00 && lo < 0xe000)
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00), i += 2;
            }
            if (cp >= 0xd800 && cp < 0xe000)
                cp = 0xfffd;
            m += put_utf8(u + m, cp);
        }
    } else if (n >= 3 && raw[0] == 0xef && raw[1] == 0xbb && raw[2] == 0xbf) {
        memcpy(u, raw + 3, n - 3), m = n - 3;
    } else {
        for (size_t i = 0; i < n && m + 4 < sizeof u; i++)
            m += put_utf8(u + m, raw[i]);
    }
    fm_text_clean(u, m, out, cap);
}

/* "D:YYYYMMDDHHmmSS+HH'mm'" as "YYYY-MM-DDTHH:mm:SS+HH:mm" (the parts present), else as is. */
static void
date_of(const char *s, char *out, size_t cap)
{
    const char *p = !strncmp(s, "D:", 2) ? s + 2 : s;
    size_t d = strspn(p, "0123456789");
    if (d < 4) {
        (void)snprintf(out, cap, "%s", s); /* a display date: cut is only shorter */
        return;
    }
    char f[7][3] = {"01", "01", "00", "00", "00"};
    for (int k = 0; k < 5 && 4 + 2 * (size_t)k + 2 <= d; k++)
        memcpy(f[k], p + 4 + 2 * (size_t)k, 2);
    int n = snprintf(out, cap, "%.4s-%s-%sT%s:%s:%s", p, f[0], f[1], f[2], f[3], f[4]);
    const char *z = p + d;
    if (n > 0 && (size_t)n < cap && (*z == 'Z' || *z == '+' || *z == '-')) {
        if (*z == 'Z')
            (void)snprintf(out + n, cap - (size_t)n, "Z");
        else if (strlen(z) >= 3)
            (void)snprintf(out + n, cap - (size_t)n, "%c%.2s:%.2s", *z, z + 1,
                           strlen(z) >= 6 && z[3] == '\'' ? z + 4 : "00");
    }
}

int
fm_pdf_meta(const void *data, size_t len, json_t *out, char *err, size_t errlen)
{
    pdf_t *pdf = calloc(1, sizeof *pdf);
    if (!pdf) {
        (void)snprintf(err, errlen, "out of memory");
        return -1;
    }
    pdf->f = (buf_t){data, len};
    const buf_t *b = &pdf->f;
    const uint8_t *h = len >= 8 ? memmem(b->p, len < 1024 ? len : 1024, "%PDF-", 5) : NULL;
    if (!h) {
        free(pdf);
        (void)snprintf(err, errlen, "not a PDF file");
        return -1;
    }
    char ver[8];
    size_t vl = 0, left = len - (size_t)(h - b->p) - 5; /* the data is not NUL-terminated */
    while (vl < left && vl < 4 && ((h[5 + vl] >= '0' && h[5 + vl] <= '9') || h[5 + vl] == '.'))
        vl++;
    (void)snprintf(ver, sizeof ver, "%.*s", (int)vl, (const char *)h + 5); /* at most 4 chars */
    json_object_set_new(out, "version", json_string(ver));
    val_t t, ref, obj, v;
    buf_t in, in2;
    int rc = -1;
    if (!trailer(pdf, &t)) {
        (void)snprintf(err, errlen, "PDF: no trailer found");
        goto done;
    }
    bool enc = dict_get(b, &t, "Encrypt", &v);
    json_object_set_new(out, "encrypted", json_boolean(enc));
    /* Page count: /Root -> /Pages -> /Count. */
    if (dict_get(b, &t, "Root", &ref) && resolve(pdf, b, &ref, &in, &obj) &&
        dict_get(&in, &obj, "Pages", &ref) && resolve(pdf, &in, &ref, &in2, &obj) &&
        dict_get(&in2, &obj, "Count", &v) && v.type == V_INT && v.num >= 0)
        json_object_set_new(out, "pages", json_integer(v.num));
    else {
        (void)snprintf(err, errlen, "PDF: no page tree found");
        goto done;
    }
    /* Strings of an encrypted file are ciphertext: only the structure above is reported. */
    static const char *const keys[][2] = {{"Title", "title"},          {"Author", "author"},
                                          {"Subject", "subject"},      {"Keywords", "keywords"},
                                          {"Creator", "creator"},      {"Producer", "producer"},
                                          {"CreationDate", "created"}, {"ModDate", "modified"}};
    if (!enc && dict_get(b, &t, "Info", &ref) && resolve(pdf, b, &ref, &in, &obj) &&
        obj.type == V_DICT) {
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            val_t s;
            char str[1024], d[sizeof str];
            if (!dict_get(&in, &obj, keys[k][0], &v) || !resolve(pdf, &in, &v, &in2, &s) ||
                (s.type != V_STR && s.type != V_HEX))
                continue;
            string_of(&in2, &s, str, sizeof str);
            if (!*str)
                continue;
            if (k >= 6)
                date_of(str, d, sizeof d);
            json_object_set_new(out, keys[k][1], json_string(k >= 6 ? d : str));
        }
    }
    rc = 0;
done:
    for (int i = 0; i < pdf->nstm; i++)
        free(pdf->stm[i].p);
    free(pdf);
    return rc;
}
