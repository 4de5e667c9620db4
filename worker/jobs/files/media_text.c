/* Text hygiene for everything that leaves a file's bytes and reaches the API: valid UTF-8,
 * no control characters, bounded strings and a bounded document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

/* Length of the valid UTF-8 sequence at p (1..4) and its code point, or 0 when invalid. */
static size_t
utf8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0)
        len = 2, v = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, v = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static bool
dropped(uint32_t cp)
{
    /* C0 except tab and newline, DEL, C1, and the bidi overrides that reorder what UIs show. */
    return (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void
fm_text_clean(const char *s, size_t n, char *dst, size_t cap)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t o = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_seq(p + i, n - i, &cp);
        const char *put = (const char *)p + i;
        size_t m = k;
        if (k == 0) {
            put = "\xef\xbf\xbd"; /* U+FFFD for a byte that is not UTF-8 */
            m = 3, k = 1;
        } else if (dropped(cp)) {
            i += k;
            continue;
        }
        if (o + m >= cap)
            break;
        memcpy(dst + o, put, m);
        o += m, i += k;
    }
    dst[o] = 0;
}

bool
fm_is_text(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_seq(p + i, n - i, &cp);
        if (k == 0)
            return n - i < 4 && p[i] >= 0xc0; /* a sequence cut by the sniff window */
        if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' && cp != '\f')
            return false;
        i += k;
    }
    return true;
}

static void
clean_value(json_t *v, size_t max_str, int depth)
{
    if (depth > 16)
        return;
    if (json_is_string(v)) {
        size_t n = json_string_length(v), cap = (n < max_str ? n : max_str) * 3 + 1;
        char *b = malloc(cap < max_str + 1 ? cap : max_str + 1);
        if (!b)
            return;
        fm_text_clean(json_string_value(v), n, b, cap < max_str + 1 ? cap : max_str + 1);
        json_string_set(v, b);
        free(b);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) clean_value(x, max_str, depth + 1);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) clean_value(x, max_str, depth + 1);
    }
}

void
fm_json_clean(json_t *doc, size_t max_str)
{
    clean_value(doc, max_str, 0);
}

/* The longest string member anywhere in doc, with its parent object. */
static void
longest(json_t *o, json_t **parent, const char **key, size_t *len, int depth)
{
    const char *k;
    json_t *x;
    if (depth > 16 || !json_is_object(o))
        return;
    json_object_foreach(o, k, x)
    {
        if (json_is_string(x) && json_string_length(x) > *len)
            *parent = o, *key = k, *len = json_string_length(x);
        else if (json_is_object(x))
            longest(x, parent, key, len, depth + 1);
    }
}

int
fm_json_bound(json_t *doc, size_t max_bytes)
{
    for (int round = 0; round < 256; round++) {
        char *s = json_dumps(doc, JSON_COMPACT);
        size_t n = s ? strlen(s) : SIZE_MAX;
        free(s);
        if (n <= max_bytes)
            return 0;
        json_t *parent = NULL;
        const char *key = NULL;
        size_t len = 0;
        longest(doc, &parent, &key, &len, 0);
        if (!parent || len < 16)
            return -1;
        json_object_del(parent, key);
        json_object_set_new(doc, "truncated", json_true());
    }
    return -1;
}
