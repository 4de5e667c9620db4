/*
 * Publishing: the event document and the Lua script that appends it to the account's backlog
 * and publishes it with its stream id in one step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../redis/redis.h"
#include "events_int.h"

/* XADD and PUBLISH in one script, so an event is in the backlog exactly when subscribers were
 * told about it, and both carry the same id. ARGV[1] is the event without its id (a JSON
 * object with at least one member); the published copy gets "id" put first. */
static const char publish_script[] =
    "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])\n"
    "if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end\n"
    "redis.call('PUBLISH', KEYS[2], '{\"id\":\"' .. id .. '\",' .. string.sub(ARGV[1], 2))\n"
    "return id\n";

static void
now_iso(char out[40])
{
    struct timespec ts;
    struct tm tm;
    char base[24];

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    (void)strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(out, 40, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

int
pnk_events_publish(const char *account_id, const char *channel, const char *type, json_t *data,
                   char id_out[48], char *err, size_t errlen)
{
    char perm[PNK_EVENTS_NAME_MAX + 16], ts[40], maxlen[24], ttl[24];
    char *key = NULL, *chan = NULL, *text = NULL;
    json_t *reply = NULL;
    int rc;

    if (account_id == NULL || account_id[0] == '\0' || strlen(account_id) > 64) {
        (void)snprintf(err, errlen, "an event needs an account");
        json_decref(data);
        return PN_E_INVALID;
    }
    if (pnk_events_channel_perm(channel, perm, sizeof perm) == NULL) {
        (void)snprintf(err, errlen, "event channel \"%.80s\" is not <plugin>.<resource>",
                       channel ? channel : "");
        json_decref(data);
        return PN_E_INVALID;
    }
    if (!pnk_events_type_valid(type)) {
        (void)snprintf(err, errlen, "event type must be [a-z0-9_.-]{1,64}");
        json_decref(data);
        return PN_E_INVALID;
    }
    now_iso(ts);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "channel", channel, "type", type,
                           "account_id", account_id, "permission", perm, "published_at", ts, "data",
                           data ? data : json_null());
    if (ev == NULL) {
        (void)snprintf(err, errlen, "event data cannot be serialized");
        return PN_E_INVALID;
    }
    text = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(ev);
    if (text == NULL) {
        (void)snprintf(err, errlen, "event data cannot be serialized");
        return PN_E_INVALID;
    }
    size_t len = strlen(text);
    if (len + 64 > PNK_EVENTS_MAX_BYTES) {
        (void)snprintf(err, errlen, "event is %zu bytes, over the %d-byte limit", len,
                       PNK_EVENTS_MAX_BYTES);
        free(text);
        return PN_E_INVALID;
    }
    key = pnk_events_backlog_key(account_id);
    chan = pnk_events_channel_key(account_id);
    (void)snprintf(maxlen, sizeof maxlen, "%d", pnk_events_settings.backlog);
    (void)snprintf(ttl, sizeof ttl, "%d", pnk_events_settings.backlog_ttl);
    const char *argv[] = {"EVAL", publish_script, "2", key, chan, text, maxlen, ttl};
    size_t lens[] = {4,
                     sizeof publish_script - 1,
                     1,
                     key ? strlen(key) : 0,
                     chan ? strlen(chan) : 0,
                     len,
                     strlen(maxlen),
                     strlen(ttl)};
    if (key == NULL || chan == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        rc = PN_E_INTERNAL;
    } else {
        rc = pnk_redis_command(PNK_REDIS_CACHE, 8, argv, lens, &reply, err, errlen);
    }
    if (rc == PN_OK && !json_is_string(reply)) {
        (void)snprintf(err, errlen, "unexpected reply to the publish script");
        rc = PN_E_INTERNAL;
    }
    if (rc == PN_OK && id_out)
        (void)snprintf(id_out, 48, "%s", json_string_value(reply));
    json_decref(reply);
    free(key);
    free(chan);
    free(text);
    return rc;
}
