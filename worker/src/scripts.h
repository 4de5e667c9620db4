/*
 * The Lua scripts that make queue moves atomic. Key layout (README "Redis layout"):
 * Sidekiq's own keys (queue:<q>, queues, schedule, retry, dead, processes, <identity>,
 * <identity>:workers, <identity>-signals, stat:*) plus ours under pn:.
 * The scripts touch keys they compute from their arguments, so they assume a single Redis
 * (not Redis Cluster), as Sidekiq itself does.
 */
#ifndef PNW_SCRIPTS_H
#define PNW_SCRIPTS_H

#include "wredis.h"

/* Acknowledge / fail / push back finished jobs, mark jobs handed to job threads as running
 * and fetch new ones, in one round trip.
 * ARGV: identity, date (YYYY-MM-DD), runaway window s, max runs, disable s, now, ndone, then
 * per done job 9 values (kind, queue, payload, score, new payload, "1" when it was marked
 * running, digest of class+args in hex or "" when it is not counted fleet-wide, label, share),
 * then nstart and the payloads now handed to job threads (appended to the LIST
 * pn:running:<identity>), then nfetch, dead_max, dead_cutoff, nqueues, queues...
 * kind: a = acknowledge, r/d = retry/dead (ZADD new payload at score), x = discarded,
 * s = scheduled, p = pushed back to its queue.
 * Runaway detection across workers: a counted run adds its share (track.h) to
 * pn:runaway:<digest> (expires after the window); the run that takes it past max sets
 * pn:disabled:<digest> = label (TTL disable s) and adds "<digest> <label>" to the ZSET
 * pn:disabled scored by the time it ends.
 * Returns the fetched jobs as a flat array queue, payload, queue, payload, ... */
extern pnw_script_t pnw_script_cycle;
/* Register a process: ARGV identity, alive ttl (ms), queues... */
extern pnw_script_t pnw_script_register;
/* Take back every job of dead processes. The ones its running markers (pn:running:<id>)
 * name go to pn:orphans:<q> to be charged a death; the others were only fetched and go
 * back to the front of their queue unchanged. ARGV: my identity. Returns {moved, charged}. */
extern pnw_script_t pnw_script_reap;
/* Replace the oldest orphan of a queue if it is still `old`: ARGV queue, old, action
 * ("q" = back to the queue, "d" = dead), new payload, now, dead_max, dead_cutoff. Orphans go
 * to the back of the queue, not the front: the jobs that died together with a crashing job
 * are then fetched with different neighbours, so only the culprit keeps collecting crashes. */
extern pnw_script_t pnw_script_orphan;
/* Move due jobs of schedule and retry back to their queues. ARGV now, limit. */
extern pnw_script_t pnw_script_poll;
/* Push every job of my working lists back to its queue front and unregister (clean exit).
 * ARGV identity. Returns the number of jobs pushed back. */
extern pnw_script_t pnw_script_release;
/* After Redis came back from a restart (an older snapshot, or nothing): make our keys match
 * what this process holds. ARGV identity, nheld, then per held job (queue, payload, "1" if
 * handed to a thread), then our queues. Working-list entries we do not hold go back to their
 * queue; held jobs missing from the working list are put back in it; pn:running and our
 * registration are rewritten. Returns {returned, re-added}. */
extern pnw_script_t pnw_script_resync;
/* Fire a cron tick once: ARGV tick key, ttl s, queue, payload. 1 when this call fired it. */
extern pnw_script_t pnw_script_cron;

#endif
