/*
 * One command on the calling thread's connection, and the reply-to-JSON conversion.
 */
#include <string.h>

#include "redis_internal.h"

int
pnk_redis_reply_json(const redisReply *r, json_t **out, char *err, size_t errlen)
{
    json_t *j = NULL;
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        /* Values are bytes: keep them exactly (json_string_length gives the size). */
        j = json_stringn_nocheck(r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        j = json_integer(r->integer);
        break;
    case REDIS_REPLY_NIL:
        j = json_null();
        break;
    case REDIS_REPLY_ARRAY:
        if (!(j = json_array()))
            break;
        for (size_t i = 0; i < r->elements; i++) {
            json_t *e = NULL;
            int rc = pnk_redis_reply_json(r->element[i], &e, err, errlen);
            if (rc != PN_OK || json_array_append_new(j, e) != 0) {
                json_decref(j);
                return rc != PN_OK ? rc : PN_E_INTERNAL;
            }
        }
        break;
    case REDIS_REPLY_ERROR:
        pnk_redis_errf(err, errlen, "%s", r->str);
        return PN_E_INTERNAL;
    default:
        pnk_redis_errf(err, errlen, "unexpected redis reply type %d", r->type);
        return PN_E_INTERNAL;
    }
    if (!j) {
        pnk_redis_errf(err, errlen, "out of memory converting a redis reply");
        return PN_E_INTERNAL;
    }
    *out = j;
    return PN_OK;
}

int
pnk_redis_command(pnk_redis_target_t t, int argc, const char *const *argv, const size_t *argvlen,
                  json_t **reply, char *err, size_t errlen)
{
    if (reply)
        *reply = NULL;
    if (argc <= 0 || !argv) {
        pnk_redis_errf(err, errlen, "redis command without arguments");
        return PN_E_INVALID;
    }
    pnk_redis_cmd_t cmd = {argc, argv, argvlen};
    redisReply *r = NULL;
    int rc = pnk_redis_pipeline(t, 1, &cmd, &r, err, errlen);
    if (rc != PN_OK)
        return rc;
    json_t *j = NULL;
    rc = pnk_redis_reply_json(r, &j, err, errlen);
    freeReplyObject(r);
    if (rc == PN_OK && reply)
        *reply = j;
    else
        json_decref(j);
    return rc;
}

int
pnk_redis_ping(pnk_redis_target_t t)
{
    static const char *const argv[] = {"PING"};
    redisReply *r = NULL;
    pnk_redis_cmd_t cmd = {1, argv, NULL};
    if (pnk_redis_pipeline(t, 1, &cmd, &r, NULL, 0) != PN_OK)
        return PN_E_UNAVAILABLE;
    int ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    freeReplyObject(r);
    return ok ? PN_OK : PN_E_UNAVAILABLE;
}
