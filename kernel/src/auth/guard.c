/*
 * Rate limits and the access token denylist in Redis; see guard.h. One Lua script does the
 * denylist check and the counting, so a request costs one round trip and the INCR and its
 * EXPIRE cannot be separated by a crash.
 */
#include "guard.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jwt.h"
#include "pcache.h"
#include "ratelimit.h"

#include "../core/log.h"
#include "../redis/redis.h"

#define DENY_PREFIX "pn:auth:deny:"
#define SESSION_PREFIX "pn:auth:deny-session:"

/* KEYS[1] token denylist key or "", KEYS[2] session denylist key or "", KEYS[3] counter key
 * or "", ARGV[1] counter lifetime. -1: denylisted; 0: not counted; n: the counter after this
 * request. */
static const char script[] =
    "if KEYS[1] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then return -1 end "
    "if KEYS[2] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then return -1 end "
    "if KEYS[3] == '' then return 0 end "
    "local n = redis.call('INCR', KEYS[3]) "
    "if n == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end "
    "return n";

static int
unavailable(pn_req_t *req, const char *what, const char *err)
{
    PNK_ERROR("auth", "redis %s failed reason=\"%s\"", what, err);
    return pnk_fail(req, PN_E_UNAVAILABLE, "sign-in checks are unavailable");
}

/* Run the script; *n gets its answer. */
static int
run(pn_req_t *req, const char *deny_key, const char *session_key, const char *count_key, int64_t *n)
{
    char ttl[16], err[200] = "";
    (void)snprintf(ttl, sizeof ttl, "%d", 2 * PNK_RATELIMIT_WINDOW);
    const char *argv[] = {"EVAL", script, "3", deny_key, session_key, count_key, ttl};
    json_t *reply = NULL;
    int rc = pnk_redis_command(PNK_REDIS_CACHE, 7, argv, NULL, &reply, err, sizeof err);
    if (rc == PN_OK && !json_is_integer(reply)) {
        (void)snprintf(err, sizeof err, "unexpected reply");
        rc = PN_E_INTERNAL;
    }
    if (rc != PN_OK) {
        json_decref(reply);
        return unavailable(req, "check", err);
    }
    *n = json_integer_value(reply);
    json_decref(reply);
    return PN_OK;
}

static int
limited(pn_req_t *req, const char *scope, int64_t count, int limit, int64_t now)
{
    int retry = 0;
    if (pnk_ratelimit_allows(count, limit, now, PNK_RATELIMIT_WINDOW, &retry))
        return PN_OK;
    char value[16];
    (void)snprintf(value, sizeof value, "%d", retry);
    (void)pnk_reply_header(req, "Retry-After", value);
    PNK_INFO("auth", "rate limited scope=%s count=%" PRId64 " limit=%d", scope, count, limit);
    return pnk_fail(req, PN_E_RATELIMIT, "too many requests; retry in %d s", retry);
}

static const char *
count_key(pn_req_t *req, const char *scope, const char *id, int64_t now)
{
    return pnk_arena_printf(req->arena, "pn:auth:rl:%s:%s:%" PRId64, scope, id,
                            pnk_ratelimit_window(now, PNK_RATELIMIT_WINDOW));
}

int
pnk_guard_rate(pn_req_t *req, const char *scope, const char *id, int limit)
{
    if (limit <= 0)
        return PN_OK;
    int64_t now = (int64_t)time(NULL), n = 0;
    const char *key = count_key(req, scope, id, now);
    if (!key)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    int rc = run(req, "", "", key, &n);
    return rc != PN_OK ? rc : limited(req, scope, n, limit, now);
}

int
pnk_guard_token(pn_req_t *req, const char *jti, const char *session, const char *user_id, int limit,
                bool *denied)
{
    *denied = false;
    /* Nothing to count and checked moments ago: no round trip, no keys (see pcache.h). */
    if (limit <= 0 && pnk_pcache_token_clean(jti))
        return PN_OK;
    int64_t now = (int64_t)time(NULL), n = 0;
    const char *deny = pnk_arena_printf(req->arena, DENY_PREFIX "%s", jti);
    const char *skey =
        session && session[0] ? pnk_arena_printf(req->arena, SESSION_PREFIX "%s", session) : "";
    const char *key = limit > 0 ? count_key(req, "user", user_id, now) : "";
    if (!deny || !key || !skey)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    uint64_t gen = pnk_pcache_generation();
    int rc = run(req, deny, skey, key, &n);
    if (rc != PN_OK)
        return rc;
    if (n < 0) {
        *denied = true;
        return PN_OK;
    }
    if (limit <= 0)
        pnk_pcache_token_put(jti, gen);
    return limited(req, "user", n, limit, now);
}

/* Put prefix+id on the denylist for ttl seconds; then every instance forgets the tokens it
 * found clean (pcache.h). */
static int
put_denylist(const char *prefix, const char *id, int64_t ttl, char *err, size_t errlen)
{
    char key[PNK_JWT_ID_MAX + 32], secs[24];
    (void)snprintf(key, sizeof key, "%s%s", prefix, id);
    (void)snprintf(secs, sizeof secs, "%" PRId64, ttl);
    const char *argv[] = {"SET", key, "1", "EX", secs};
    if (pnk_redis_command(PNK_REDIS_CACHE, 5, argv, NULL, NULL, err, errlen) != PN_OK)
        return PN_E_UNAVAILABLE;
    pnk_pcache_changed();
    return PN_OK;
}

int
pnk_guard_deny(const char *jti, int64_t exp, char *err, size_t errlen)
{
    int64_t ttl = exp + PNK_JWT_LEEWAY + 1 - (int64_t)time(NULL);
    if (ttl <= 0)
        return PN_OK; /* refused by its exp already */
    return put_denylist(DENY_PREFIX, jti, ttl, err, errlen);
}

int
pnk_guard_deny_session(const char *session, int64_t ttl, char *err, size_t errlen)
{
    return put_denylist(SESSION_PREFIX, session, ttl + PNK_JWT_LEEWAY + 1, err, errlen);
}
