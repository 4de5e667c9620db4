/*
 * Housekeeping on a thread of its own, so a busy job pool never delays it: heartbeats in
 * Sidekiq's `processes` format plus our liveness key, Redis-sent signals (Sidekiq's
 * <identity>-signals: TSTP = quiet, TERM = stop), the schedule/retry poller, the reaper that
 * returns dead processes' jobs, and cron ticks.
 */
#ifndef PNW_HOUSE_H
#define PNW_HOUSE_H

#include "cron.h"

int pnw_house_start(void);
/* Stop the thread (after the pool drained); it beats no more. */
void pnw_house_stop(void);
/* Push back what is left in our working lists and unregister. Returns the count or -1. */
int pnw_house_release(void);

#endif
