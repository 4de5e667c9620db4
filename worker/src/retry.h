/*
 * The retry policy, as in the original: a job's retry count (default 3); delays of 30, 60 and
 * 180 s after API errors and count^4 + 15 s + random jitter otherwise; then the dead set.
 * Pure functions over an injectable clock and random source, so tests can check timings.
 */
#ifndef PNW_RETRY_H
#define PNW_RETRY_H

#include <stdbool.h>

#define PNW_DEFAULT_RETRY 3

typedef struct pnw_clock {
    double (*now)(void *ud);                      /* epoch seconds */
    unsigned (*rand_below)(void *ud, unsigned n); /* uniform in [0, n) */
    void *ud;
} pnw_clock_t;

/* The real clock and random source. */
extern const pnw_clock_t pnw_clock_system;

typedef enum { PNW_PLAN_RETRY, PNW_PLAN_DEAD, PNW_PLAN_DISCARD } pnw_plan_kind_t;

typedef struct pnw_plan {
    pnw_plan_kind_t kind;
    double at;       /* RETRY: when it runs again (epoch s); DEAD: time of death */
    int retry_count; /* the retry_count to write: 0 after the first failure */
} pnw_plan_t;

/* The delay before retry number count + 1 (count = retry_count after this failure, 0 for
 * the first). scale multiplies it (tests only; 1 in production). */
double pnw_retry_delay(int count, bool api_error, const pnw_clock_t *clk, double scale);

/* What to do after a failed attempt. payload_retry: PNW_RETRY_CLASS, PNW_RETRY_DISCARD or a
 * count; class_retry: the class's count (0 = default, -1 = none); prev_count: the payload's
 * retry_count (-1 before the first failure); permanent: the job asked for the dead set. */
pnw_plan_t pnw_retry_plan(int payload_retry, int class_retry, int prev_count, bool api_error,
                          bool permanent, const pnw_clock_t *clk, double scale);

/* The effective number of retries for a payload and class. */
int pnw_retry_limit(int payload_retry, int class_retry);

#endif
