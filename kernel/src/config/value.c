/* Strict parsing of config scalars; see value.h. */
#include "value.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

int
pnk_config_value_int(const char *s, int64_t *out, bool *overflow)
{
    bool neg = false;
    int64_t v = 0;

    *overflow = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (*s == '\0')
        return -1;
    /* Accumulate on the negative side so INT64_MIN fits. */
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        int d = *s - '0';
        if (v < (INT64_MIN + d) / 10) {
            *overflow = true;
            /* keep scanning: "99999999999999999999x" is not an integer at all */
            for (; *s; s++)
                if (*s < '0' || *s > '9') {
                    *overflow = false;
                    return -1;
                }
            return -1;
        }
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN) {
            *overflow = true;
            return -1;
        }
        v = -v;
    }
    *out = v;
    return 0;
}

int
pnk_config_value_double(const char *s, double *out)
{
    char *end;

    if (*s == '\0' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    double d = strtod(s, &end);
    if (*end != '\0' || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

void
pnk_config_value_fmt(double x, char *buf, size_t n)
{
    /* Whole numbers as people write them ("600", not "6e+02"). */
    if (x == floor(x) && fabs(x) < 1e15) {
        (void)snprintf(buf, n, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        (void)snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

int
pnk_config_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    if (s == NULL)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}
