/* Pure input checks of the identity routes: pagination, ids, timestamps, permission names. */
#include <stdlib.h>
#include <string.h>

#include "identity_util.h"

/* Strict decimal in [lo, hi]: no sign, no spaces, no leading zeros beyond "0". */
static bool
parse_long(const char *s, long lo, long hi, long *out)
{
    long v = 0;
    size_t n = strlen(s);

    if (n == 0 || n > 9 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int
pnk_identity_page_parse(const char *page, const char *per_page, pnk_identity_page_t *out,
                        const char **field)
{
    out->page = 1;
    out->per_page = PNK_IDENTITY_PER_PAGE_DEFAULT;
    if (page && !parse_long(page, 1, PNK_IDENTITY_PAGE_MAX, &out->page)) {
        *field = "page";
        return PN_E_INVALID;
    }
    if (per_page && !parse_long(per_page, 1, PNK_IDENTITY_PER_PAGE_MAX, &out->per_page)) {
        *field = "per_page";
        return PN_E_INVALID;
    }
    out->offset = (out->page - 1) * out->per_page;
    return PN_OK;
}

json_t *
pnk_identity_page_meta(const pnk_identity_page_t *pg, long total)
{
    long pages = total > 0 ? (total + pg->per_page - 1) / pg->per_page : 0;

    return json_pack("{s:{s:I, s:I, s:I, s:I}}", "pagination", "page", (json_int_t)pg->page,
                     "per_page", (json_int_t)pg->per_page, "total", (json_int_t)total,
                     "total_pages", (json_int_t)pages);
}

static bool
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool
pnk_identity_uuid_ok(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}

/* n digits at s, as a number in [lo, hi]. */
static bool
digits(const char *s, int n, int lo, int hi)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi;
}

bool
pnk_identity_rfc3339_ok(const char *s)
{
    /* 2024-05-01T12:30:00 is 19 characters; the rest is an optional fraction and the zone. */
    if (!s || strlen(s) < 20 || !digits(s, 4, 0, 9999) || s[4] != '-' || !digits(s + 5, 2, 1, 12) ||
        s[7] != '-' || !digits(s + 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, 0, 23) || s[13] != ':' || !digits(s + 14, 2, 0, 59) || s[16] != ':' ||
        !digits(s + 17, 2, 0, 60))
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9' && n < 10) {
            p++;
            n++;
        }
        if (n == 0 || (*p >= '0' && *p <= '9'))
            return false;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    return (*p == '+' || *p == '-') && digits(p + 1, 2, 0, 23) && p[3] == ':' &&
           digits(p + 4, 2, 0, 59) && p[6] == '\0';
}

bool
pnk_identity_perm_name_ok(const char *s)
{
    int parts = 0;
    const char *p = s;

    if (!s || strlen(s) > 200)
        return false;
    for (;;) {
        if (!(*p >= 'a' && *p <= 'z'))
            return false;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
            p++;
        parts++;
        if (*p == '\0')
            return parts >= 3;
        if (*p++ != '.')
            return false;
    }
}
