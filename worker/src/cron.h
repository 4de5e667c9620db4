/*
 * Cron expressions for the worker's schedules: five fields (minute hour day-of-month month
 * day-of-week) with *, lists, ranges, steps and names (jan, mon), or @hourly, @daily,
 * @weekly, @monthly, @yearly. Evaluated in UTC. When both day fields are restricted a day
 * matches either (as in Vixie cron).
 */
#ifndef PNW_CRON_H
#define PNW_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct pnw_cron {
    uint64_t minute;
    uint32_t hour;
    uint32_t dom;   /* bits 1..31 */
    uint16_t month; /* bits 1..12 */
    uint8_t dow;    /* bits 0..6, Sunday = 0 */
    bool dom_any, dow_any;
} pnw_cron_t;

/* 0, or -1 with the reason ("field 2 (hour): 25 is outside 0-23"). */
int pnw_cron_parse(const char *expr, pnw_cron_t *out, char *err, size_t errlen);
/* Whether the minute containing t (UTC) is a tick of c. */
bool pnw_cron_match(const pnw_cron_t *c, time_t t);

#endif
