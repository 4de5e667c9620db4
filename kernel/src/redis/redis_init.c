/*
 * Start-up: parse the URLs, connect once to each target and refuse a server that may evict
 * keys, since jobs and rate-limit counters must never silently disappear.
 */
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "redis_internal.h"

#define DEFAULT_TIMEOUT_S 2.0

/* The policy from CONFIG GET, or from INFO memory when CONFIG is disabled or renamed. */
static int
read_policy(pnk_redis_target_t t, char *policy, size_t cap, char *err, size_t errlen)
{
    static const char *const cfg[] = {"CONFIG", "GET", "maxmemory-policy"};
    static const char *const info[] = {"INFO", "memory"};
    pnk_redis_cmd_t cmd = {3, cfg, NULL};
    redisReply *r = NULL;
    int rc = pnk_redis_pipeline(t, 1, &cmd, &r, err, errlen);
    if (rc != PN_OK)
        return rc;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING) {
        (void)snprintf(policy, cap, "%s", r->element[1]->str);
        freeReplyObject(r);
        return PN_OK;
    }
    freeReplyObject(r);
    cmd = (pnk_redis_cmd_t){2, info, NULL};
    if ((rc = pnk_redis_pipeline(t, 1, &cmd, &r, err, errlen)) != PN_OK)
        return rc;
    rc = PN_E_UNAVAILABLE;
    if (r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "maxmemory_policy:");
        if (p && (p == r->str || p[-1] == '\n')) {
            p += strlen("maxmemory_policy:");
            (void)snprintf(policy, cap, "%.*s", (int)strcspn(p, "\r\n"), p);
            rc = PN_OK;
        }
    }
    freeReplyObject(r);
    if (rc != PN_OK)
        pnk_redis_errf(err, errlen,
                       "redis %s: cannot read maxmemory-policy (CONFIG GET and INFO memory "
                       "both failed)",
                       pnk_redis_endpoint_get(t)->where);
    return rc;
}

static int
check_target(pnk_redis_target_t t, char *err, size_t errlen)
{
    char policy[64];
    if (read_policy(t, policy, sizeof policy, err, errlen) != PN_OK)
        return -1;
    if (strcmp(policy, "noeviction") != 0) {
        pnk_redis_errf(err, errlen,
                       "redis %s uses maxmemory-policy %s; jobs and rate limits need noeviction",
                       pnk_redis_endpoint_get(t)->where, policy);
        return -1;
    }
    return 0;
}

int
pnk_redis_init(const pnk_redis_config_t *cfg, char *err, size_t errlen)
{
    pnk_redis_endpoint_t cache, queue;
    if (pnk_redis_configured()) {
        pnk_redis_errf(err, errlen, "redis is already initialised");
        return -1;
    }
    if (!cfg || pnk_redis_url_parse(cfg->url, &cache, err, errlen) != PN_OK)
        return -1;
    if (cfg->queue_url) {
        if (pnk_redis_url_parse(cfg->queue_url, &queue, err, errlen) != PN_OK)
            return -1;
    } else {
        queue = cache;
        queue.db = 1;
    }
    if (cfg->timeout < 0 || cfg->timeout > 3600) {
        pnk_redis_errf(err, errlen, "redis timeout must be 0-3600 s");
        return -1;
    }
    cache.timeout = queue.timeout = cfg->timeout > 0 ? cfg->timeout : DEFAULT_TIMEOUT_S;
    pnk_redis_set_endpoints(&cache, &queue);
    if (check_target(PNK_REDIS_CACHE, err, errlen) != 0 ||
        check_target(PNK_REDIS_QUEUE, err, errlen) != 0) {
        pnk_redis_shutdown();
        return -1;
    }
    PNK_INFO("redis", "ready cache=%s/%d queue=%s/%d", cache.where, cache.db, queue.where,
             queue.db);
    return 0;
}
