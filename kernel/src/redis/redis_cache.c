/*
 * Cache helpers (keys under "pn:cache:") and publish, all on the cache target. These calls
 * have no message slot, so failures are logged here and only the code goes up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "redis_internal.h"

#define PREFIX "pn:cache:"
#define MAX_KEY 1024

/* One command whose reply is checked for an error reply. *out gets the reply when wanted. */
static int
run(int argc, const char *const *argv, const size_t *lens, redisReply **out)
{
    char err[256] = "";
    pnk_redis_cmd_t cmd = {argc, argv, lens};
    redisReply *r = NULL;
    int rc = pnk_redis_pipeline(PNK_REDIS_CACHE, 1, &cmd, &r, err, sizeof err);
    if (rc != PN_OK) {
        PNK_DEBUG("redis", "%s failed: %s", argv[0], err);
        return rc;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        PNK_WARN("redis", "%s failed: %s", argv[0], r->str);
        freeReplyObject(r);
        return PN_E_INTERNAL;
    }
    if (out)
        *out = r;
    else
        freeReplyObject(r);
    return PN_OK;
}

static int
cache_key(const char *key, char *buf, size_t cap)
{
    if (!key || !*key || strlen(key) > MAX_KEY)
        return PN_E_INVALID;
    (void)snprintf(buf, cap, PREFIX "%s", key);
    return PN_OK;
}

int
pnk_cache_get(const char *key, char **val, size_t *len)
{
    char k[sizeof PREFIX + MAX_KEY];
    if (!val || cache_key(key, k, sizeof k) != PN_OK)
        return PN_E_INVALID;
    *val = NULL;
    if (len)
        *len = 0;
    const char *argv[] = {"GET", k};
    redisReply *r = NULL;
    int rc = run(2, argv, NULL, &r);
    if (rc != PN_OK)
        return rc;
    if (r->type == REDIS_REPLY_NIL) {
        rc = PN_E_NOTFOUND;
    } else if (r->type == REDIS_REPLY_STRING && (*val = malloc(r->len + 1))) {
        /* NUL-terminated as a convenience for text values. */
        memcpy(*val, r->str, r->len);
        (*val)[r->len] = '\0';
        if (len)
            *len = r->len;
    } else {
        rc = PN_E_INTERNAL;
    }
    freeReplyObject(r);
    return rc;
}

int
pnk_cache_set(const char *key, const void *val, size_t len, int ttl_s)
{
    char k[sizeof PREFIX + MAX_KEY], ttl[16];
    if ((!val && len) || ttl_s < 0 || cache_key(key, k, sizeof k) != PN_OK)
        return PN_E_INVALID;
    (void)snprintf(ttl, sizeof ttl, "%d", ttl_s);
    const char *argv[] = {"SET", k, val ? (const char *)val : "", "EX", ttl};
    size_t lens[] = {3, strlen(k), len, 2, strlen(ttl)};
    return run(ttl_s > 0 ? 5 : 3, argv, lens, NULL);
}

int
pnk_cache_del(const char *key)
{
    char k[sizeof PREFIX + MAX_KEY];
    if (cache_key(key, k, sizeof k) != PN_OK)
        return PN_E_INVALID;
    const char *argv[] = {"DEL", k};
    return run(2, argv, NULL, NULL);
}

int
pnk_redis_publish(const char *channel, const char *msg, size_t len)
{
    if (!channel || !*channel || (!msg && len))
        return PN_E_INVALID;
    const char *argv[] = {"PUBLISH", channel, msg ? msg : ""};
    size_t lens[] = {7, strlen(channel), len};
    return run(3, argv, lens, NULL);
}
