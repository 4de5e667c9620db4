/*
 * Kernel logging: one line per event, logfmt on a terminal or JSON lines when configured.
 * The current request id is thread-local so every line a handler thread writes carries it.
 * Thread-safe. Never pass secrets; pnk_log_redact_header() says which header values to hide.
 */
#ifndef PNK_LOG_H
#define PNK_LOG_H

#include <stdarg.h>
#include <stdbool.h>

typedef enum { PNK_LOG_DEBUG = 0, PNK_LOG_INFO, PNK_LOG_WARN, PNK_LOG_ERROR } pnk_log_level_t;

/* format: "text" or "json"; level: minimum level written; fd: where lines go (2 = stderr). */
void pnk_log_setup(const char *format, pnk_log_level_t level, int fd);
/* Parse "debug"/"info"/"warn"/"error"; -1 when unknown. */
int pnk_log_level_parse(const char *s);

/* The request id lines on this thread carry (NULL clears). The string must outlive its use. */
void pnk_log_set_request(const char *request_id);

/* tag: the component ("http", "loader", or a plugin name). Message is key=value facts. */
void pnk_log(pnk_log_level_t level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pnk_logv(pnk_log_level_t level, const char *tag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
bool pnk_log_enabled(pnk_log_level_t level);

/* Whether pnk_log_access writes anything (on by default). */
void pnk_log_access_enable(bool on);
/* The access log line: one per request. */
void pnk_log_access(const char *request_id, const char *method, const char *path, int status,
                    double duration_ms, const char *peer);

/* True for header names whose values must never be logged (Authorization, Cookie, ...). */
bool pnk_log_redact_header(const char *name);

#define PNK_DEBUG(tag, ...) pnk_log(PNK_LOG_DEBUG, tag, __VA_ARGS__)
#define PNK_INFO(tag, ...) pnk_log(PNK_LOG_INFO, tag, __VA_ARGS__)
#define PNK_WARN(tag, ...) pnk_log(PNK_LOG_WARN, tag, __VA_ARGS__)
#define PNK_ERROR(tag, ...) pnk_log(PNK_LOG_ERROR, tag, __VA_ARGS__)

#endif
