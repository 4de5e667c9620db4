/*
 * The job pipeline: `concurrency` job threads and one dispatcher thread that owns the hot
 * Redis connection. Each dispatcher round trip is one script call that acknowledges (or
 * fails) every job finished since the last one and moves up to the number of free threads'
 * worth of new jobs atomically into this process's working lists.
 */
#ifndef PNW_POOL_H
#define PNW_POOL_H

#include "runtime.h"

/* Start the threads. 0 or -1. */
int pnw_pool_start(void);
/* Stop fetching (quiet or shutdown); wakes the dispatcher. */
void pnw_pool_wake(void);
/* Shutdown: take back queued-but-unstarted jobs (pushed back to their queues), wait up to
 * timeout seconds for running jobs, flush acknowledgements. True when everything finished. */
bool pnw_pool_drain(double timeout);
/* Join the threads (only after a drain that returned true). */
void pnw_pool_join(void);
/* Busy job threads and, for the heartbeat, the running jobs as Sidekiq's <identity>:workers
 * fields: fills tids/values (malloc'd strings), returns count. */
int pnw_pool_running(char ***tids, char ***values);

#endif
