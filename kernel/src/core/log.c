/* Line-oriented structured logging for the kernel and plugins; see log.h. */
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static bool json_format;
static pnk_log_level_t min_level = PNK_LOG_INFO;
static int log_fd = 2;
static _Thread_local const char *current_request;
static bool access_on = true;

void
pnk_log_access_enable(bool on)
{
    access_on = on;
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
pnk_log_setup(const char *format, pnk_log_level_t level, int fd)
{
    json_format = format && strcmp(format, "json") == 0;
    min_level = level;
    log_fd = fd;
}

int
pnk_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void
pnk_log_set_request(const char *request_id)
{
    current_request = request_id;
}

bool
pnk_log_enabled(pnk_log_level_t level)
{
    return level >= min_level;
}

static void
timestamp(char *buf, size_t n)
{
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(buf + k, n - k, ".%03dZ", (int)(tv.tv_usec / 1000));
}

/* One write(2) per line so lines from different threads never interleave. */
static void
emit(const char *line, size_t len)
{
    while (len > 0) {
        ssize_t w = write(log_fd, line, len);
        if (w <= 0)
            return;
        line += w;
        len -= (size_t)w;
    }
}

static void
emit_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

    json_decref(o);
    if (s == NULL)
        return;
    size_t n = strlen(s);
    s[n] = '\n'; /* replaces the NUL; the length is passed explicitly */
    emit(s, n + 1);
    free(s);
}

void
pnk_logv(pnk_log_level_t level, const char *tag, const char *fmt, va_list ap)
{
    char ts[40], msg[2048], line[2400];

    if (level < min_level)
        return;
    timestamp(ts, sizeof ts);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    /* Control characters from input must not forge log lines. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    if (json_format) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts, "level", level_names[level], "tag",
                              tag ? tag : "-", "msg", msg);
        if (o && current_request)
            json_object_set_new(o, "request_id", json_string(current_request));
        if (o)
            emit_json(o);
        return;
    }
    int n = snprintf(line, sizeof line, "%s %-5s [%s]%s%s %s\n", ts, level_names[level],
                     tag ? tag : "-", current_request ? " rid=" : "",
                     current_request ? current_request : "", msg);
    if (n > 0)
        emit(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void
pnk_log(pnk_log_level_t level, const char *tag, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pnk_logv(level, tag, fmt, ap);
    va_end(ap);
}

void
pnk_log_access(const char *request_id, const char *method, const char *path, int status,
               double duration_ms, const char *peer)
{
    char ts[40], line[1200];

    if (!access_on)
        return;
    if (json_format) {
        timestamp(ts, sizeof ts);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:s}", "ts", ts, "level",
                              "info", "tag", "access", "request_id", request_id ? request_id : "",
                              "method", method, "path", path, "status", status, "duration_ms",
                              duration_ms, "peer", peer ? peer : "");
        if (o)
            emit_json(o);
        return;
    }
    timestamp(ts, sizeof ts);
    int n = snprintf(line, sizeof line,
                     "%s info  [access] rid=%s method=%s path=%.512s status=%d "
                     "duration_ms=%.3f peer=%s\n",
                     ts, request_id ? request_id : "-", method, path, status, duration_ms,
                     peer ? peer : "-");
    if (n > 0)
        emit(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

bool
pnk_log_redact_header(const char *name)
{
    static const char *const secret[] = {"authorization",       "cookie",    "set-cookie",
                                         "proxy-authorization", "x-api-key", NULL};
    for (int i = 0; secret[i]; i++)
        if (strcasecmp(name, secret[i]) == 0)
            return true;
    return false;
}
