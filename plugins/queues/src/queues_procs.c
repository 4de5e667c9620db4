/* Worker processes (Sidekiq's `processes` set, their hashes and <identity>:workers) and the
 * stats: Sidekiq's stat:* counters, set sizes, and per-class figures the worker publishes
 * (pn:counters, pn:runs:<identity>). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queues.h"

static const char lua_procs[] =
    "local out = {}\n"
    "for _, id in ipairs(redis.call('SMEMBERS', 'processes')) do\n"
    "  out[#out + 1] = {id,\n"
    "    redis.call('HMGET', id, 'info', 'busy', 'beat', 'quiet', 'rss', 'rtt_us'),\n"
    "    redis.call('HGETALL', id .. ':workers'),\n"
    "    redis.call('EXISTS', 'pn:alive:' .. id)}\n"
    "end\n"
    "return out\n";

static json_t *
parsed(const json_t *s)
{
    json_t *j = json_is_string(s) ? json_loads(json_string_value(s), 0, NULL) : NULL;
    return j ? j : json_null();
}

static json_t *
running(const json_t *flat)
{
    json_t *out = json_array();
    for (size_t i = 0; i + 1 < json_array_size(flat); i += 2) {
        json_t *w = parsed(json_array_get(flat, i + 1));
        json_t *payload = json_object_get(w, "payload");
        /* Sidekiq 6 stores the payload as JSON text inside the JSON value. */
        json_t *job = json_is_string(payload)
                          ? q_summary(json_string_value(payload), -1)
                          : (json_is_object(payload) ? json_incref(payload) : json_null());
        if (json_is_object(payload)) {
            char *t = json_dumps(payload, JSON_COMPACT);
            json_decref(job);
            job = q_summary(t, -1);
            free(t);
        }
        json_array_append_new(out,
                              json_pack("{s:O, s:O?, s:O?, s:o}", "thread", json_array_get(flat, i),
                                        "queue", json_object_get(w, "queue"), "run_at",
                                        json_object_get(w, "run_at"), "job", job));
        json_decref(w);
    }
    return out;
}

static int
cmp_id(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "identity"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "identity"));
    return strcmp(x ? x : "", y ? y : "");
}

int
q_processes(pn_req_t *req)
{
    json_t *r;
    int rc = q_admin_gate(req);
    if (rc != PN_OK || (rc = Q_CMD(req, &r, "EVAL", lua_procs, "0")) != PN_OK)
        return rc;
    json_t *out = pn_host_->req_keep_json(req, json_array());
    for (size_t i = 0; i < json_array_size(r); i++) {
        json_t *e = json_array_get(r, i), *h = json_array_get(e, 1);
        /* A process whose hash expired is gone (Sidekiq's ProcessSet prunes it too). */
        if (!json_is_string(json_array_get(h, 0)))
            continue;
        json_t *info = parsed(json_array_get(h, 0));
        const char *beat = json_string_value(json_array_get(h, 2));
        const char *quiet = json_string_value(json_array_get(h, 3));
        json_t *p = json_pack(
            "{s:O, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:I, s:o, s:b, s:I, s:I, s:o, s:o}",
            "identity", json_array_get(e, 0), "hostname", json_object_get(info, "hostname"), "pid",
            json_object_get(info, "pid"), "queues", json_object_get(info, "queues"), "concurrency",
            json_object_get(info, "concurrency"), "tag", json_object_get(info, "tag"), "started_at",
            json_object_get(info, "started_at"), "busy", (json_int_t)q_int(json_array_get(h, 1)),
            "beat", beat ? json_real(strtod(beat, NULL)) : json_null(), "quiet",
            quiet && !strcmp(quiet, "true"), "rss_kb", (json_int_t)q_int(json_array_get(h, 4)),
            "rtt_us", (json_int_t)q_int(json_array_get(h, 5)), "alive",
            /* Only workers with reliable fetch keep pn:alive:<id>; Sidekiq's have no such key. */
            q_int(json_array_get(e, 3)) ? json_true() : json_null(), "running",
            running(json_array_get(e, 2)));
        json_decref(info);
        if (p)
            json_array_append_new(out, p);
    }
    size_t n = json_array_size(out);
    json_t **v = pn_req_alloc(
        req, (n ? n : 1) * sizeof *v); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    if (!v)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(out, i));
    qsort(v, n, sizeof *v, cmp_id); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    json_t *sorted = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(sorted, v[i]);
    return pn_reply_ok(req, json_pack("{s:o}", "processes", sorted));
}

static const char lua_stats[] =
    "local sizes = {redis.call('GET', 'stat:processed') or '0',\n"
    "  redis.call('GET', 'stat:failed') or '0', redis.call('ZCARD', 'schedule'),\n"
    "  redis.call('ZCARD', 'retry'), redis.call('ZCARD', 'dead'),\n"
    "  redis.call('SCARD', 'processes'), 0}\n"
    "for _, q in ipairs(redis.call('SMEMBERS', 'queues')) do\n"
    "  sizes[7] = sizes[7] + redis.call('LLEN', 'queue:' .. q)\n"
    "end\n"
    "local days = {}\n"
    "for i = 1, #ARGV do\n"
    "  days[#days + 1] = redis.call('GET', 'stat:processed:' .. ARGV[i]) or '0'\n"
    "  days[#days + 1] = redis.call('GET', 'stat:failed:' .. ARGV[i]) or '0'\n"
    "end\n"
    "local runs = {}\n"
    "for _, id in ipairs(redis.call('SMEMBERS', 'pn:procs')) do\n"
    "  runs[#runs + 1] = redis.call('HGETALL', 'pn:runs:' .. id)\n"
    "end\n"
    "return {sizes, days, redis.call('HGETALL', 'pn:counters'), runs}\n";

static json_t *
class_entry(json_t *classes, const char *name)
{
    json_t *c = json_object_get(classes, name);
    if (!c) {
        c = json_pack("{s:{}, s:I, s:I, s:I, s:f, s:n}", "counters", "runs", (json_int_t)0, "ok",
                      (json_int_t)0, "failed", (json_int_t)0, "avg_ms", 0.0, "last_run_at");
        json_object_set_new(classes, name, c);
    }
    return c;
}

/* Counters are "<class>.<name>" (timings "<class>.<name>.ms" and ".count"). */
static void
add_counters(json_t *classes, const json_t *flat)
{
    for (size_t i = 0; i + 1 < json_array_size(flat); i += 2) {
        const char *k = json_string_value(json_array_get(flat, i));
        const char *dot = k ? strchr(k, '.') : NULL;
        if (!dot || dot == k)
            continue;
        char cls[256];
        (void)snprintf(cls, sizeof cls, "%.*s", (int)(dot - k) < 255 ? (int)(dot - k) : 255, k);
        json_object_set_new(json_object_get(class_entry(classes, cls), "counters"), dot + 1,
                            json_integer((json_int_t)q_int(json_array_get(flat, i + 1))));
    }
}

/* Each process's last runs per class: [{start, ms, result}, ...]. */
static void
add_runs(json_t *classes, const json_t *flat)
{
    for (size_t i = 0; i + 1 < json_array_size(flat); i += 2) {
        const char *cls = json_string_value(json_array_get(flat, i));
        json_t *runs = parsed(json_array_get(flat, i + 1));
        if (!cls || !json_is_array(runs)) {
            json_decref(runs);
            continue;
        }
        json_t *c = class_entry(classes, cls);
        int64_t n = q_int(json_object_get(c, "runs"));
        double avg = json_number_value(json_object_get(c, "avg_ms")), sum = avg * (double)n;
        double last = json_number_value(json_object_get(c, "last_run_at"));
        size_t k;
        json_t *r;
        json_array_foreach(runs, k, r)
        {
            const char *res = json_string_value(json_object_get(r, "result"));
            const char *bucket = res && !strcmp(res, "ok") ? "ok" : "failed";
            json_object_set_new(c, bucket,
                                json_integer(json_integer_value(json_object_get(c, bucket)) + 1));
            sum += json_number_value(json_object_get(r, "ms"));
            n++;
            double st = json_number_value(json_object_get(r, "start"));
            if (st > last)
                last = st;
        }
        json_object_set_new(c, "runs", json_integer((json_int_t)n));
        json_object_set_new(c, "avg_ms", json_real(n ? sum / (double)n : 0));
        json_object_set_new(c, "last_run_at", last > 0 ? json_real(last) : json_null());
        json_decref(runs);
    }
}

int
q_stats(pn_req_t *req)
{
    int rc = q_admin_gate(req);
    if (rc != PN_OK)
        return rc;
    const char *dv = pn_req_query(req, "days");
    char *end = NULL;
    long ndays = dv ? strtol(dv, &end, 10) : 7;
    if (dv && (!*dv || *end || ndays < 1 || ndays > 90)) {
        pn_fail_field(req, "days", "must be an integer from 1 to 90");
        return pn_fail(req, PN_E_INVALID, "bad days");
    }
    const char **argv = pn_req_alloc(req, (size_t)(ndays + 3) * sizeof *argv);
    char(*dates)[16] = pn_req_alloc(req, (size_t)ndays * sizeof *dates);
    if (!argv || !dates)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    time_t now = time(NULL);
    argv[0] = "EVAL";
    argv[1] = lua_stats;
    argv[2] = "0";
    for (long i = 0; i < ndays; i++) {
        time_t t = now - (time_t)i * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        (void)strftime(dates[i], sizeof dates[i], "%Y-%m-%d", &tm);
        argv[3 + i] = dates[i];
    }
    json_t *r;
    if ((rc = q_cmd(req, &r, (int)ndays + 3, argv)) != PN_OK)
        return rc;
    json_t *sz = json_array_get(r, 0), *days = json_array_get(r, 1);
    json_t *per_day = json_array();
    for (long i = 0; i < ndays; i++)
        json_array_append_new(
            per_day, json_pack("{s:s, s:I, s:I}", "date", dates[i], "processed",
                               (json_int_t)q_int(json_array_get(days, (size_t)(2 * i))), "failed",
                               (json_int_t)q_int(json_array_get(days, (size_t)(2 * i + 1)))));
    json_t *classes = json_object();
    add_counters(classes, json_array_get(r, 2));
    json_t *runs = json_array_get(r, 3);
    for (size_t i = 0; i < json_array_size(runs); i++)
        add_runs(classes, json_array_get(runs, i));
    return pn_reply_ok(req, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "processed",
                                      (json_int_t)q_int(json_array_get(sz, 0)), "failed",
                                      (json_int_t)q_int(json_array_get(sz, 1)), "scheduled_size",
                                      (json_int_t)q_int(json_array_get(sz, 2)), "retry_size",
                                      (json_int_t)q_int(json_array_get(sz, 3)), "dead_size",
                                      (json_int_t)q_int(json_array_get(sz, 4)), "processes_size",
                                      (json_int_t)q_int(json_array_get(sz, 5)), "enqueued",
                                      (json_int_t)q_int(json_array_get(sz, 6)), "per_day", per_day,
                                      "classes", classes));
}
