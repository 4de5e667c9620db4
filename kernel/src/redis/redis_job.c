/*
 * Job enqueue in Sidekiq's wire format on the queue target, so a Sidekiq-compatible worker
 * (ours or Sidekiq itself) can run what the server enqueues. Not the worker side.
 */
#include <math.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redis_internal.h"

#define MAX_QUEUE 64
#define MAX_CLASS 200

static bool
valid_queue(const char *q)
{
    size_t n = q ? strlen(q) : 0;
    if (n == 0 || n > MAX_QUEUE)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((q[i] >= 'a' && q[i] <= 'z') || (q[i] >= '0' && q[i] <= '9') || q[i] == '_' ||
              q[i] == '-'))
            return false;
    return true;
}

static bool
valid_class(const char *c)
{
    size_t n = c ? strlen(c) : 0;
    if (n == 0 || n > MAX_CLASS)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
              (c[i] >= '0' && c[i] <= '9') || c[i] == '_' || c[i] == ':'))
            return false;
    return true;
}

/* 12 random bytes as 24 lowercase hex digits, like Sidekiq's SecureRandom.hex(12). */
static int
make_jid(char jid[25])
{
    unsigned char b[12];
    if (RAND_bytes(b, sizeof b) != 1)
        return -1;
    for (size_t i = 0; i < sizeof b; i++)
        (void)snprintf(jid + 2 * i, 3, "%02x", b[i]);
    return 0;
}

static double
epoch_now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The payload, keys in Sidekiq's own order. Steals args. */
static char *
payload(const char *job_class, const char *queue, json_t *args, int retry, const char *jid,
        double created, bool scheduled)
{
    json_t *p = json_object();
    if (!p) {
        json_decref(args);
        return NULL;
    }
    int bad = json_object_set_new(p, "retry", retry < 0 ? json_true() : json_integer(retry));
    bad |= json_object_set_new(p, "queue", json_string(queue));
    bad |= json_object_set_new(p, "class", json_string(job_class));
    bad |= json_object_set_new(p, "args", args);
    bad |= json_object_set_new(p, "jid", json_string(jid));
    bad |= json_object_set_new(p, "created_at", json_real(created));
    if (!scheduled)
        bad |= json_object_set_new(p, "enqueued_at", json_real(created));
    char *s = bad ? NULL : json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    return s;
}

/* Every reply must be free of errors; EXEC's array too. */
static int
check_replies(redisReply **r, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const redisReply *x = r[i];
        if (x->type == REDIS_REPLY_ERROR) {
            pnk_redis_errf(err, errlen, "enqueue failed: %s", x->str);
            return PN_E_INTERNAL;
        }
        for (size_t j = 0; x->type == REDIS_REPLY_ARRAY && j < x->elements; j++)
            if (x->element[j]->type == REDIS_REPLY_ERROR) {
                pnk_redis_errf(err, errlen, "enqueue failed: %s", x->element[j]->str);
                return PN_E_INTERNAL;
            }
    }
    if (r[n - 1]->type == REDIS_REPLY_NIL) {
        pnk_redis_errf(err, errlen, "enqueue failed: transaction aborted");
        return PN_E_INTERNAL;
    }
    return PN_OK;
}

static int
push(const char *queue, const char *json, double at, bool scheduled, char *err, size_t errlen)
{
    char qkey[sizeof "queue:" + MAX_QUEUE], score[64];
    (void)snprintf(qkey, sizeof qkey, "queue:%s", queue);
    (void)snprintf(score, sizeof score, "%.6f", at);
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    const char *sadd[] = {"SADD", "queues", queue};
    const char *lpush[] = {"LPUSH", qkey, json};
    const char *zadd[] = {"ZADD", "schedule", score, json};
    pnk_redis_cmd_t now_cmds[] = {
        {1, multi, NULL}, {3, sadd, NULL}, {3, lpush, NULL}, {1, exec, NULL}};
    pnk_redis_cmd_t later_cmds[] = {{4, zadd, NULL}};
    pnk_redis_cmd_t *cmds = scheduled ? later_cmds : now_cmds;
    size_t n = scheduled ? 1 : 4;
    redisReply *r[4] = {0};
    int rc = pnk_redis_pipeline(PNK_REDIS_QUEUE, n, cmds, r, err, errlen);
    if (rc != PN_OK)
        return rc;
    rc = check_replies(r, n, err, errlen);
    for (size_t i = 0; i < n; i++)
        freeReplyObject(r[i]);
    return rc;
}

int
pnk_job_enqueue(const char *job_class, const char *queue, json_t *args, double at, int retry,
                char jid_out[25], char *err, size_t errlen)
{
    int rc = PN_E_INVALID;
    if (!valid_class(job_class))
        pnk_redis_errf(err, errlen,
                       "job class must be 1-%d characters of A-Z a-z 0-9 _ :", MAX_CLASS);
    else if (!valid_queue(queue))
        pnk_redis_errf(err, errlen, "queue name must be 1-%d characters of a-z 0-9 _ -", MAX_QUEUE);
    else if (!json_is_array(args))
        pnk_redis_errf(err, errlen, "job args must be a JSON array");
    else if (!isfinite(at))
        pnk_redis_errf(err, errlen, "job time must be a finite epoch time");
    else
        rc = PN_OK;
    if (rc != PN_OK) {
        json_decref(args);
        return rc;
    }
    char jid[25];
    if (make_jid(jid) != 0) {
        json_decref(args);
        pnk_redis_errf(err, errlen, "no random bytes for a job id");
        return PN_E_INTERNAL;
    }
    double now = epoch_now();
    bool scheduled = at > now;
    char *json = payload(job_class, queue, args, retry, jid, now, scheduled);
    if (!json) {
        pnk_redis_errf(err, errlen, "out of memory building a job");
        return PN_E_INTERNAL;
    }
    rc = push(queue, json, at, scheduled, err, errlen);
    free(json);
    if (rc == PN_OK && jid_out)
        memcpy(jid_out, jid, 25);
    return rc;
}
