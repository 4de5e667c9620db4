/* Worker log lines: a timestamp, the level, a tag and key=value facts, written whole. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wlog.h"

static pnw_level_t min_level = PNW_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void
pnw_log_set_level(pnw_level_t level)
{
    min_level = level;
}

int
pnw_log_level_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int
pnw_log_enabled(pnw_level_t level)
{
    return level >= min_level;
}

void
pnw_logv(pnw_level_t level, const char *tag, const char *fmt, va_list ap)
{
    if (level < min_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s tag=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[level], tag);
    if (n < 0)
        return;
    if ((size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    /* One write per line so lines of different threads and processes never interleave. */
    ssize_t w = write(2, line, (size_t)n);
    (void)w;
}

void
pnw_log(pnw_level_t level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pnw_logv(level, tag, fmt, ap);
    va_end(ap);
}
