/*
 * The worker's Redis connections (hiredis): one per thread that needs one, never shared.
 * A failed command closes the connection; the next call reconnects. Scripts run with EVALSHA
 * and are loaded on NOSCRIPT, so a restarted Redis is handled without ceremony.
 */
#ifndef PNW_REDIS_H
#define PNW_REDIS_H

#include <hiredis/hiredis.h>
#include <stddef.h>

typedef struct pnw_redis_addr {
    char host[256];
    int port;
    char path[256]; /* unix socket when set */
    char user[128];
    char password[256];
    int db;
} pnw_redis_addr_t;

/* redis://[user:password@]host[:port][/db] or unix:///path[?db=N]. When queue_url is empty
 * the queue database is database 1 of url's server (like the API server). 0 or -1 + err. */
int pnw_redis_addr_parse(const char *url, const char *queue_url, pnw_redis_addr_t *out, char *err,
                         size_t errlen);

typedef struct pnw_redis pnw_redis_t;

pnw_redis_t *pnw_redis_new(const pnw_redis_addr_t *a, double timeout);
void pnw_redis_free(pnw_redis_t *r);
/* The last error ("connection refused", a Redis error reply, ...). */
const char *pnw_redis_error(const pnw_redis_t *r);

/* One command; the reply (caller frees with freeReplyObject), or NULL with the error set.
 * A Redis error reply is returned as a reply (type REDIS_REPLY_ERROR), not NULL. */
redisReply *pnw_redis_cmd(pnw_redis_t *r, int argc, const char **argv, const size_t *lens);
/* printf-style convenience (hiredis format: %s, %b, %d, %lld). */
redisReply *pnw_redis_cmdf(pnw_redis_t *r, const char *fmt, ...);

typedef struct pnw_script {
    const char *name;
    const char *src;
    char sha[41];
} pnw_script_t;

/* Run a script with nkeys keys first in argv. Same ownership as pnw_redis_cmd. */
redisReply *pnw_redis_eval(pnw_redis_t *r, pnw_script_t *s, int nkeys, int argc, const char **argv,
                           const size_t *lens);
/* Bounded blocking command (BLMOVE): the socket timeout is raised to block_s + timeout. */
redisReply *pnw_redis_cmd_block(pnw_redis_t *r, double block_s, int argc, const char **argv,
                                const size_t *lens);

#endif
