/*
 * Rate-limit arithmetic: fixed one-minute windows aligned to the Unix epoch. Redis counts
 * the hits of a window (guard.c); this decides from the count and says how long to wait.
 * Pure, so it is tested without Redis.
 */
#ifndef PNK_RATELIMIT_H
#define PNK_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define PNK_RATELIMIT_WINDOW 60 /* seconds */

/* Start of the window that contains now (window > 0 seconds). */
int64_t pnk_ratelimit_window(int64_t now, int window);

/*
 * Whether the hit that made the window's count `count` (1 for the first) is allowed under
 * `limit` hits per window; limit <= 0 means no limit. When it is not, *retry_after gets the
 * whole seconds until the window ends (1..window), the value for a Retry-After header.
 */
bool pnk_ratelimit_allows(int64_t count, int limit, int64_t now, int window, int *retry_after);

#endif
