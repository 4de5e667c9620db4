/*
 * The string formats the schema validator knows (uuid, email, date-time, uri) and UTF-8 code
 * point counting. Checks are syntactic only: no DNS, no calendar beyond RFC 3339's rules.
 */
#include "schema_format.h"

#include <string.h>

static const struct {
    const char *name, *desc;
    pnk_schema_format_t f;
} formats[] = {
    {"uuid", "a UUID", PNK_FMT_UUID},
    {"email", "an email address", PNK_FMT_EMAIL},
    {"date-time", "an RFC 3339 date-time", PNK_FMT_DATETIME},
    {"uri", "an absolute URI", PNK_FMT_URI},
};

pnk_schema_format_t
pnk_schema_format_parse(const char *name)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, name) == 0)
            return formats[i].f;
    return PNK_FMT_NONE;
}

const char *
pnk_schema_format_desc(pnk_schema_format_t f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].f == f)
            return formats[i].desc;
    return "valid";
}

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* strchr() would also find the terminating NUL. */
static bool
in_set(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static bool
check_uuid(const char *s, size_t n)
{
    if (n != 36)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}

/* RFC 5322 dot-atom local part; quoted local parts and address literals are not accepted. */
static bool
check_email(const char *s, size_t n)
{
    const char *at = n ? memchr(s, '@', n) : NULL;
    if (!at || n > 254)
        return false;
    size_t ln = (size_t)(at - s), dn = n - ln - 1;
    if (ln == 0 || ln > 64 || dn == 0 || s[0] == '.' || s[ln - 1] == '.')
        return false;
    for (size_t i = 0; i < ln; i++) {
        char c = s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!is_alpha(c) && !is_digit(c) && !in_set(c, "!#$%&'*+-/=?^_`{|}~")) {
            return false;
        }
    }
    const char *d = at + 1;
    size_t label = 0;
    for (size_t i = 0; i <= dn; i++) {
        char c = (char)(i < dn ? d[i] : '.');
        if (c == '.') {
            if (label == 0 || label > 63 || d[i - 1] == '-')
                return false;
            label = 0;
        } else if (is_alpha(c) || is_digit(c) || (c == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

/* n digits at s as a number, or -1. */
static int
digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int
days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* RFC 3339 section 5.6 date-time; a leap second is accepted only at 23:59:60 UTC. */
static bool
check_datetime(const char *s, size_t n)
{
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return false;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    int off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (n - i != 6 || s[i + 3] != ':')
            return false;
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return false;
        off = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
        i += 6;
    } else {
        return false;
    }
    if (i != n)
        return false;
    if (sec == 60) {
        int utc = ((h * 60 + mi - off) % 1440 + 1440) % 1440;
        if (utc != 23 * 60 + 59)
            return false;
    }
    return true;
}

/* RFC 3986 absolute URI: a scheme, then only characters a URI may hold, with valid escapes. */
static bool
check_uri(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_alpha(s[0]))
        return false;
    while (i < n && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == n || s[i] != ':')
        return false;
    i++;
    bool in_authority = n - i >= 2 && s[i] == '/' && s[i + 1] == '/', fragment = false;
    if (in_authority)
        i += 2;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 2;
            continue;
        }
        if (c == '/' || c == '?' || c == '#')
            in_authority = false;
        if (c == '#') {
            if (fragment)
                return false;
            fragment = true;
            continue;
        }
        if ((c == '[' || c == ']') && in_authority)
            continue;
        if (!is_alpha(c) && !is_digit(c) && !in_set(c, "-._~:/?@!$&'()*+,;="))
            return false;
    }
    return true;
}

bool
pnk_schema_format_check(pnk_schema_format_t f, const char *s, size_t n)
{
    switch (f) {
    case PNK_FMT_UUID:
        return check_uuid(s, n);
    case PNK_FMT_EMAIL:
        return check_email(s, n);
    case PNK_FMT_DATETIME:
        return check_datetime(s, n);
    case PNK_FMT_URI:
        return check_uri(s, n);
    case PNK_FMT_NONE:
        break;
    }
    return true;
}

size_t
pnk_schema_utf8_len(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}
