/*
 * Decoders for untrusted input: JSON bodies (depth-checked before Jansson parses them), query
 * strings and percent-encoding. No global state; every output lives in the caller's arena.
 */
#include "decode.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Used when a caller passes max_depth <= 0; matches the limit the reliability plan asks for. */
#define DEFAULT_MAX_DEPTH 64

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Jansson recurses once per nesting level and only stops at 2048, so deep input is refused
 * here first, in one pass that knows enough about strings to ignore brackets inside them.
 * Raw NUL bytes are refused too: Jansson would report them less clearly.
 */
static int
prescan(const char *buf, size_t len, int max_depth, char *err, size_t errlen)
{
    int depth = 0, line = 1, col = 0;
    int in_string = 0, escaped = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        col++;
        if (c == '\n') {
            line++;
            col = 0;
        }
        if (c == '\0') {
            (void)snprintf(err, errlen, "invalid JSON at line %d, column %d: NUL byte", line, col);
            return -1;
        }
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                (void)snprintf(err, errlen,
                               "invalid JSON at line %d, column %d: nesting deeper than %d levels",
                               line, col, max_depth);
                return -1;
            }
        } else if (c == ']' || c == '}') {
            depth--; /* unbalanced input is Jansson's to report */
        }
    }
    return 0;
}

json_t *
pnk_json_decode(const char *buf, size_t len, int max_depth, char *err, size_t errlen)
{
    json_error_t jerr;

    if (max_depth <= 0)
        max_depth = DEFAULT_MAX_DEPTH;
    if (!buf || len == 0) {
        (void)snprintf(err, errlen, "invalid JSON: empty body");
        return NULL;
    }
    if (prescan(buf, len, max_depth, err, errlen) < 0)
        return NULL;

    /* JSON_ALLOW_NUL is not passed, so "\u0000" in a string is refused as well. */
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!j) {
        /* Jansson appends " near '<token>'", which would echo the body back; drop it. */
        char *near = strstr(jerr.text, " near ");
        if (near)
            *near = '\0';
        (void)snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
    }
    return j;
}

/* Decodes n bytes into out (room for n + 1); -1 on a bad escape or a NUL byte. */
static int
decode_into(char *out, const char *s, size_t n, bool plus_as_space)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_as_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

char *
pnk_percent_decode(pnk_arena_t *a, const char *s, size_t n, bool plus_as_space)
{
    if (!s || n == SIZE_MAX)
        return NULL;
    char *out = pnk_arena_alloc(a, n + 1);
    if (!out || decode_into(out, s, n, plus_as_space) < 0)
        return NULL;
    return out;
}

int
pnk_query_parse(pnk_arena_t *a, const char *query, size_t max_pairs, pnk_query_pair_t **pairs,
                size_t *npairs)
{
    *pairs = NULL;
    *npairs = 0;
    if (!query || !*query)
        return 0;

    /* Count first, so a query with a million '&' costs one scan and no allocation. */
    size_t count = 0;
    for (const char *p = query; *p;) {
        size_t n = strcspn(p, "&");
        if (n > 0 && ++count > max_pairs)
            return -1;
        p += n;
        if (*p == '&')
            p++;
    }
    if (count == 0)
        return 0;

    pnk_query_pair_t *out = pnk_arena_calloc(a, count, sizeof *out);
    if (!out)
        return -1;
    size_t k = 0;
    for (const char *p = query; *p;) {
        size_t n = strcspn(p, "&");
        if (n > 0) {
            const char *eq = memchr(p, '=', n);
            size_t klen = eq ? (size_t)(eq - p) : n;
            out[k].key = pnk_percent_decode(a, p, klen, true);
            out[k].value = eq ? pnk_percent_decode(a, eq + 1, n - klen - 1, true) : "";
            if (!out[k].key || !out[k].value)
                return -1;
            k++;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    *pairs = out;
    *npairs = k;
    return 0;
}
