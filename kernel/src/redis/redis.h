/*
 * Redis: per-thread connections that reconnect by themselves, cache helpers, pub/sub, and the
 * job enqueue helper writing Sidekiq's wire format into the queue database. Two logical
 * targets: the cache database (cache, rate limits, pub/sub) and the queue database (jobs).
 * A lost Redis is not fatal: calls fail with PN_E_UNAVAILABLE and the next call reconnects.
 */
#ifndef PNK_REDIS_H
#define PNK_REDIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include <powernode/types.h>

typedef enum { PNK_REDIS_CACHE = 0, PNK_REDIS_QUEUE = 1 } pnk_redis_target_t;

typedef struct pnk_redis_config {
    const char *url;       /* redis://[user:password@]host:port/db for the cache, e.g. .../0, or
                              unix:///path?db=N */
    const char *queue_url; /* the queue database; NULL = same server as url, database 1 */
    double timeout;        /* seconds for connect and for each command; 0 = 2 s */
} pnk_redis_config_t;

/* Set the targets, connect once to each and refuse an evicting server: maxmemory-policy must
 * be noeviction ("redis 127.0.0.1:6379 uses maxmemory-policy allkeys-lru; jobs and rate limits
 * need noeviction"). 0, or -1 with err. Call once before any other function. */
int pnk_redis_init(const pnk_redis_config_t *cfg, char *err, size_t errlen);
/* Close every connection this process opened (all threads must have stopped using Redis). */
void pnk_redis_shutdown(void);
/* Close the calling thread's connections (a thread calls this before it exits). */
void pnk_redis_thread_done(void);

/* Run one command on the calling thread's connection. The reply becomes JSON (bulk/status ->
 * string, integer -> integer, nil -> null, array -> array); a Redis error reply is
 * PN_E_INTERNAL with its text in err. reply may be NULL. Bulk strings keep their bytes as
 * they are (not checked as UTF-8; use json_string_length). No reply within the timeout is
 * PN_E_TIMEOUT; while Redis is down calls fail fast with PN_E_UNAVAILABLE (one connect
 * attempt per thread per 200 ms at most). */
int pnk_redis_command(pnk_redis_target_t t, int argc, const char *const *argv,
                      const size_t *argvlen, json_t **reply, char *err, size_t errlen);
/* PING; PN_OK or PN_E_UNAVAILABLE. */
int pnk_redis_ping(pnk_redis_target_t t);

/* Cache: get (*val malloc'd and NUL-terminated, caller frees; PN_E_NOTFOUND when absent),
 * set with TTL seconds (0 = none), delete. Keys are prefixed "pn:cache:". */
int pnk_cache_get(const char *key, char **val, size_t *len);
int pnk_cache_set(const char *key, const void *val, size_t len, int ttl_s);
int pnk_cache_del(const char *key);

/* Publish a message on a channel (cache target). */
int pnk_redis_publish(const char *channel, const char *msg, size_t len);

/* Subscribe to a channel pattern on a thread of its own that reconnects after failures;
 * on_message runs on that thread (and must not unsubscribe its own handle). Waits up to the
 * timeout (at most 5 s) for the first subscription, so messages published after a return
 * with Redis up are delivered; messages published while disconnected are lost. Returns a
 * handle to stop it, or NULL. */
typedef struct pnk_redis_sub pnk_redis_sub_t;
pnk_redis_sub_t *pnk_redis_subscribe(const char *pattern,
                                     void (*on_message)(void *ud, const char *channel,
                                                        const char *msg, size_t len),
                                     void *ud);
void pnk_redis_unsubscribe(pnk_redis_sub_t *s);

/*
 * Enqueue a job in Sidekiq's format on the queue target: payload {"class","args","jid",
 * "queue","retry","created_at","enqueued_at"} LPUSHed to queue:<queue> with SADD queues, or
 * ZADD schedule <at> when at > now (no enqueued_at then). Steals args (must be an array).
 * retry < 0 means Sidekiq's default (true). jid_out gets the 24-hex jid. Atomic (MULTI).
 */
int pnk_job_enqueue(const char *job_class, const char *queue, json_t *args, double at, int retry,
                    char jid_out[25], char *err, size_t errlen);

#endif
