/*
 * Execution tracking (the last 20 runs of each job class: start, duration, result), runaway
 * detection (more than runaway.max_runs runs of the same class and arguments within
 * runaway.window seconds disables that job for runaway.disable seconds), and the counters
 * and timings jobs report. Per process; published with the heartbeat. Thread-safe.
 * Runaway detection is also fleet-wide: runs of a (class, args) that this process has seen
 * more than once within the window are counted in Redis by the dispatcher (scripts.h), and the
 * heartbeat copies jobs disabled there into this table (pnw_track_disable). A job seen once
 * costs Redis nothing: counting every run there cost two commands and a key per distinct job
 * (a million keys a minute at 20,000 jobs/s), for loops that repeat in every process anyway.
 */
#ifndef PNW_TRACK_H
#define PNW_TRACK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PNW_TRACK_RUNS 20

typedef struct pnw_track pnw_track_t;

pnw_track_t *pnw_track_new(size_t nclasses, int max_runs, int window_s, int disable_s);
void pnw_track_free(pnw_track_t *t);

/* Record a run of (class, args) starting now. 0 when it may run; otherwise the time until
 * which it is disabled, with *newly true the first time (so it is logged once). */
double pnw_track_runaway(pnw_track_t *t, const char *job_class, const json_t *args, double now,
                         bool *newly);
/* The same, also giving the (class, args) digest, a "<class> <args>" label for Redis and
 * *share, how many runs to add to the fleet-wide count: 0 for the first run in the window,
 * 2 for the second (it and the first), 1 after that. */
double pnw_track_check(pnw_track_t *t, const char *job_class, const json_t *args, double now,
                       bool *newly, uint64_t *digest, char *label, size_t labellen, int *share);
/* Disable a digest until `until` (learnt from Redis). True when it was not disabled yet. */
bool pnw_track_disable(pnw_track_t *t, uint64_t digest, double until, const char *label);
void pnw_track_run(pnw_track_t *t, int class_index, double start, double ms, const char *result);
void pnw_track_count(pnw_track_t *t, const char *name, long delta);

/* {"<class>": [{"start":..,"ms":..,"result":".."}, ... newest first]} */
json_t *pnw_track_runs_json(pnw_track_t *t, const char *const *class_names);
/* Counters changed since the last call, as name -> delta; resets them. */
json_t *pnw_track_take_counters(pnw_track_t *t);
/* Jobs disabled right now: {"<class> <args>": until}. */
json_t *pnw_track_disabled_json(pnw_track_t *t, double now);

#endif
