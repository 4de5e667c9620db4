/*
 * Worker logging: one line per event on stderr, logfmt ("ts=... level=... tag=... msg"),
 * thread-safe. Jobs log through the host table, which adds class, jid and attempt.
 */
#ifndef PNW_LOG_H
#define PNW_LOG_H

#include <stdarg.h>

typedef enum { PNW_DEBUG = 0, PNW_INFO, PNW_WARN, PNW_ERROR } pnw_level_t;

void pnw_log_set_level(pnw_level_t level);
/* "debug", "info", "warn", "error"; -1 when unknown. */
int pnw_log_level_parse(const char *s);
int pnw_log_enabled(pnw_level_t level);
void pnw_log(pnw_level_t level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pnw_logv(pnw_level_t level, const char *tag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
