/* Test helpers: the Redis under test (PN_TEST_REDIS_URL) and throwaway redis-server processes. */
#ifndef PNK_REDIS_TEST_HELPERS_H
#define PNK_REDIS_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TH_CACHE_DB 14
#define TH_QUEUE_DB 15

/* PN_TEST_REDIS_URL, or NULL after printing why the tests cannot run. */
const char *th_env_url(void);
/* url with its database replaced by db; 0 or -1. */
int th_url_with_db(const char *url, int db, char *out, size_t cap);
/* pnk_redis_init on PN_TEST_REDIS_URL with databases 14 (cache) and 15 (queue). 0 or -1. */
int th_init(void);
/* Seconds on the monotonic clock. */
double th_now(void);
void th_sleep_ms(int ms);

/* A throwaway redis-server on a free loopback port with extra arguments (NULL-terminated).
 * Returns its pid (>0) and sets *port, or -1. */
pid_t th_redis_start(int *port, const char *const *extra);
/* Start again on the same port (after th_redis_stop); pid or -1. */
pid_t th_redis_start_on(int port, const char *const *extra);
/* SIGTERM, wait for exit (bounded), SIGKILL as a last resort. */
void th_redis_stop(pid_t pid);
/* A loopback port nobody listens on right now, or -1. */
int th_free_port(void);
/* Run a command on a throwaway server with a private connection; the reply's str (or "")
 * copied to out. 0 unless the connection failed or the reply was an error. */
int th_direct(int port, const char *password, const char *cmd, char *out, size_t cap);

#endif
