/*
 * Internals shared by the redis area's files: a parsed endpoint (where to connect and how to
 * log in), URL parsing, one-off connections and the reply-to-JSON conversion.
 */
#ifndef PNK_REDIS_INTERNAL_H
#define PNK_REDIS_INTERNAL_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "redis.h"

typedef struct pnk_redis_endpoint {
    char host[256]; /* empty when path is set */
    int port;
    char path[256]; /* unix socket path, or empty */
    char user[128]; /* ACL user; empty = AUTH with the password alone */
    char pass[256]; /* empty = no AUTH */
    int db;
    double timeout;  /* seconds, > 0 */
    char where[300]; /* "host:port" or the socket path: for messages, never holds secrets */
} pnk_redis_endpoint_t;

/* Parse redis://[user:password@]host[:port][/db] or unix:///path[?db=N]. PN_OK or
 * PN_E_INVALID with err. The caller sets timeout. */
int pnk_redis_url_parse(const char *url, pnk_redis_endpoint_t *t, char *err, size_t errlen);

/* The configured target (valid between pnk_redis_init and pnk_redis_shutdown). */
const pnk_redis_endpoint_t *pnk_redis_endpoint_get(pnk_redis_target_t which);

/* A new connection to ep, logged in and on its database; NULL with err. */
redisContext *pnk_redis_connect(const pnk_redis_endpoint_t *ep, char *err, size_t errlen);

/* Convert a reply; an error reply anywhere is PN_E_INTERNAL with its text in err. */
int pnk_redis_reply_json(const redisReply *r, json_t **out, char *err, size_t errlen);

/* Run n pipelined commands on the calling thread's connection to which; replies[i] gets
 * each raw reply (caller frees with freeReplyObject). PN_OK, PN_E_UNAVAILABLE or
 * PN_E_TIMEOUT (then no reply is returned). Error replies are returned, not judged. */
typedef struct pnk_redis_cmd {
    int argc;
    const char *const *argv;
    const size_t *argvlen;
} pnk_redis_cmd_t;
int pnk_redis_pipeline(pnk_redis_target_t which, size_t n, const pnk_redis_cmd_t *cmds,
                       redisReply **replies, char *err, size_t errlen);

/* Install the endpoints (init, before any thread runs commands); whether that happened. */
void pnk_redis_set_endpoints(const pnk_redis_endpoint_t *cache, const pnk_redis_endpoint_t *queue);
bool pnk_redis_configured(void);

/* For tests: connection attempts made by the calling thread since it started. */
unsigned long pnk_redis_thread_connects(void);

/* snprintf into err when err is usable. */
void pnk_redis_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
