/* Cron field parsing into bit sets, and matching a minute against them. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"

static const char *const fnames[] = {"minute", "hour", "day of month", "month", "day of week"};
static const int lo[] = {0, 0, 1, 1, 0}, hi[] = {59, 23, 31, 12, 7};
static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A number or (months, days) a three-letter name; advances *s. -1 when none. */
static int
value(const char **s, int field)
{
    const char *p = *s;
    if (isdigit((unsigned char)*p)) {
        long v = 0;
        while (isdigit((unsigned char)*p) && v < 1000)
            v = v * 10 + (*p++ - '0');
        *s = p;
        return (int)v;
    }
    const char *const *names = field == 3 ? months : field == 4 ? days : NULL;
    int n = field == 3 ? 12 : 7, base = field == 3 ? 1 : 0;
    for (int i = 0; names && i < n; i++)
        if (strncasecmp(p, names[i], 3) == 0) {
            *s = p + 3;
            return i + base;
        }
    return -1;
}

static int
field(const char *text, int f, uint64_t *bits, bool *any, char *err, size_t errlen)
{
    const char *s = text;
    *bits = 0;
    *any = strcmp(text, "*") == 0 || strcmp(text, "?") == 0;
    for (;;) {
        int a, b, step = 1;
        if (*s == '*') {
            a = lo[f], b = hi[f];
            s++;
        } else {
            if ((a = value(&s, f)) < 0)
                goto bad;
            b = a;
            if (*s == '-') {
                s++;
                if ((b = value(&s, f)) < 0)
                    goto bad;
            }
        }
        if (*s == '/') {
            s++;
            const char *before = s;
            step = value(&s, 0);
            if (s == before || step < 1)
                goto bad;
            if (b == a && text[0] != '*' && strchr(text, '-') == NULL)
                b = hi[f]; /* "5/15" means 5-max/15 */
        }
        if (a < lo[f] || a > hi[f] || b < lo[f] || b > hi[f] || a > b) {
            (void)snprintf(err, errlen, "field %d (%s): %d-%d is outside %d-%d", f + 1, fnames[f],
                           a, b, lo[f], hi[f]);
            return -1;
        }
        for (int v = a; v <= b; v += step)
            /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): v >= lo[f] >= 0 */
            *bits |= 1ull << (f == 4 && v == 7 ? 0 : v);
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s == '\0')
            return 0;
    bad:
        snprintf(err, errlen, "field %d (%s): cannot read \"%s\"", f + 1, fnames[f], text);
        return -1;
    }
}

int
pnw_cron_parse(const char *expr, pnw_cron_t *out, char *err, size_t errlen)
{
    static const struct {
        const char *name, *exp;
    } macros[] = {{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
                  {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
                  {"@hourly", "0 * * * *"}};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++)
        if (strcmp(expr, macros[i].name) == 0)
            expr = macros[i].exp;
    if (expr[0] == '@') {
        (void)snprintf(err, errlen, "unknown macro %s", expr);
        return -1;
    }
    char buf[256];
    if (strlen(expr) >= sizeof buf) {
        (void)snprintf(err, errlen, "expression too long");
        return -1;
    }
    (void)snprintf(buf, sizeof buf, "%s", expr);
    char *save = NULL, *tok[6];
    int n = 0;
    for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == 5) {
            n++;
            break;
        }
        tok[n++] = t;
    }
    if (n != 5) {
        (void)snprintf(err, errlen,
                       "need five fields (minute hour day-of-month month day-of-week)");
        return -1;
    }
    uint64_t bits[5];
    bool any[5];
    for (int f = 0; f < 5; f++)
        if (field(tok[f], f, &bits[f], &any[f], err, errlen) != 0)
            return -1;
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)bits[4];
    out->dom_any = any[2];
    out->dow_any = any[4];
    return 0;
}

bool
pnw_cron_match(const pnw_cron_t *c, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (!(c->minute >> tm.tm_min & 1) || !(c->hour >> tm.tm_hour & 1) ||
        !(c->month >> (tm.tm_mon + 1) & 1))
        return false;
    bool dom = c->dom >> tm.tm_mday & 1, dow = c->dow >> tm.tm_wday & 1;
    if (c->dom_any || c->dow_any)
        return dom && dow;
    return dom || dow;
}
