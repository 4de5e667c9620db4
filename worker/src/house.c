/* Heartbeat, pollers, reaper, orphan handling and cron firing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "house.h"
#include "payload.h"
#include "pool.h"
#include "runtime.h"
#include "scripts.h"
#include "wlog.h"
#include "wrandom.h"

static pthread_t house_thread;
static volatile int house_exit;
static bool house_started;
static pnw_cron_t *crons;

static long
rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        (void)fclose(f);
    }
    return (long)(res * (unsigned long)sysconf(_SC_PAGESIZE) / 1024);
}

static void
nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static char *
info_json(void)
{
    const pnw_config_t *c = pnw_rt.cfg;
    json_t *q = json_array();
    for (size_t i = 0; i < c->nqueues; i++)
        json_array_append_new(q, json_string(c->queues[i].name));
    json_t *o = json_pack("{s:s, s:f, s:i, s:s, s:i, s:o, s:[], s:s, s:s}", "hostname",
                          pnw_rt.hostname, "started_at", pnw_rt.started_at, "pid", (int)getpid(),
                          "tag", c->tag, "concurrency", c->concurrency, "queues", q, "labels",
                          "identity", pnw_rt.identity, "version", "powernode-worker 0.1");
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

static void
put_json(pnw_redis_t *r, const char *cmd, const char *key, const char *field, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!s)
        return;
    redisReply *rep = field ? pnw_redis_cmdf(r, "%s %s %s %s", cmd, key, field, s)
                            : pnw_redis_cmdf(r, "%s %s %s", cmd, key, s);
    if (rep)
        freeReplyObject(rep);
    free(s);
}

/* Jobs disabled by runaway detection anywhere in the fleet (pn:disabled, scripts.h) are
 * disabled here too; each is logged once by each process that learns of it. */
static void
pull_disabled(pnw_redis_t *r)
{
    char now[32];
    (void)snprintf(now, sizeof now, "%.3f", pnw_now());
    redisReply *rep =
        pnw_redis_cmdf(r, "ZRANGEBYSCORE pn:disabled %s +inf WITHSCORES LIMIT 0 1000", now);
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
        const char *m = rep->element[i]->str;
        char *end;
        unsigned long long dg = strtoull(m, &end, 16);
        double until = strtod(rep->element[i + 1]->str, NULL);
        if (end != m + 16 || *end != ' ')
            continue;
        if (pnw_track_disable(pnw_rt.track, (uint64_t)dg, until, end + 1))
            pnw_log(PNW_WARN, "job",
                    "runaway across workers: %s ran more than %d times in %d s; disabled "
                    "for %.0f s more (jobs wait in the schedule set)",
                    end + 1, pnw_rt.cfg->runaway_max, pnw_rt.cfg->runaway_window,
                    until - pnw_now());
    }
    if (rep)
        freeReplyObject(rep);
}

/* Per-process visibility: runs per class, disabled jobs, breakers; counters are global. */
static void
publish(pnw_redis_t *r)
{
    char key[256];
    double now = pnw_now();
    const char **names = calloc(pnw_rt.reg.nclasses + 1, sizeof *names);
    for (size_t i = 0; names && i < pnw_rt.reg.nclasses; i++)
        names[i] = pnw_rt.reg.classes[i].c.name;
    json_t *runs = names ? pnw_track_runs_json(pnw_rt.track, names) : NULL;
    free(names);
    (void)snprintf(key, sizeof key, "pn:runs:%s", pnw_rt.identity);
    const char *k;
    json_t *v;
    json_object_foreach(runs, k, v) put_json(r, "HSET", key, k, json_incref(v));
    json_decref(runs);
    redisReply *rep = pnw_redis_cmdf(r, "EXPIRE %s 60", key);
    if (rep)
        freeReplyObject(rep);
    (void)snprintf(key, sizeof key, "pn:state:%s", pnw_rt.identity);
    json_t *st = json_object();
    json_object_set_new(st, "disabled", pnw_track_disabled_json(pnw_rt.track, now));
    json_object_set_new(st, "breakers", pnw_breakers_json(pnw_rt.breakers, now));
    put_json(r, "SET", key, NULL, st);
    rep = pnw_redis_cmdf(r, "EXPIRE %s 60", key);
    if (rep)
        freeReplyObject(rep);
    json_t *cnt = pnw_track_take_counters(pnw_rt.track);
    json_object_foreach(cnt, k, v)
    {
        rep = pnw_redis_cmdf(r, "HINCRBY pn:counters %s %lld", k, (long long)json_integer_value(v));
        if (rep)
            freeReplyObject(rep);
    }
    json_decref(cnt);
}

static bool beat_once;
static char redis_run_id[48];

/* A restarted Redis (new run_id) may have come back from an older snapshot or empty: our
 * working lists and registration no longer match what we hold. The dispatcher fixes them. */
static void
check_restart(pnw_redis_t *r)
{
    redisReply *rep = pnw_redis_cmdf(r, "INFO server");
    const char *at = rep && rep->type == REDIS_REPLY_STRING ? strstr(rep->str, "run_id:") : NULL;
    if (at) {
        char id[48];
        size_t n = strcspn(at + 7, "\r\n");
        (void)snprintf(id, sizeof id, "%.*s", (int)(n < sizeof id - 1 ? n : sizeof id - 1), at + 7);
        if (redis_run_id[0] && strcmp(id, redis_run_id) != 0) {
            pnw_log(PNW_WARN, "heartbeat",
                    "redis restarted (run_id changed): re-syncing our working lists");
            pnw_rt.resync = 1;
            pnw_pool_wake();
        }
        memcpy(redis_run_id, id, sizeof id);
    }
    if (rep)
        freeReplyObject(rep);
}

static void
heartbeat(pnw_redis_t *r)
{
    const pnw_config_t *c = pnw_rt.cfg;
    const char *id = pnw_rt.identity;
    char alive[256], ttl[32], wkey[256], sig[256];
    (void)snprintf(alive, sizeof alive, "pn:alive:%s", id);
    (void)snprintf(ttl, sizeof ttl, "%ld", (long)(c->heartbeat_ttl * 1000));
    double t0 = pnw_now();
    const char *setv[] = {"SET", alive, "1", "PX", ttl, "GET"};
    redisReply *rep = pnw_redis_cmd(r, 6, setv, NULL);
    if (!rep) {
        pnw_log(PNW_WARN, "heartbeat", "redis: %s", pnw_redis_error(r));
        return;
    }
    long rtt = (long)((pnw_now() - t0) * 1e6);
    if (rep->type == REDIS_REPLY_NIL && beat_once)
        pnw_log(PNW_WARN, "heartbeat",
                "our liveness key had expired (paused or Redis lost it); "
                "jobs we held may have been returned to their queues and run twice");
    freeReplyObject(rep);
    beat_once = true;
    check_restart(r);
    char *info = info_json();
    pthread_mutex_lock(&pnw_rt.mu);
    int busy = pnw_rt.running;
    pthread_mutex_unlock(&pnw_rt.mu);
    char beat[32];
    (void)snprintf(beat, sizeof beat, "%.6f", pnw_now());
    rep = pnw_redis_cmdf(r, "SADD processes %s", id);
    if (rep)
        freeReplyObject(rep);
    rep = pnw_redis_cmdf(r, "SADD pn:procs %s", id);
    if (rep)
        freeReplyObject(rep);
    rep = pnw_redis_cmdf(r, "HSET %s info %s busy %d beat %s quiet %s rss %ld rtt_us %ld", id,
                         info ? info : "{}", busy, beat,
                         pnw_rt.quiet || pnw_rt.stopping ? "true" : "false", rss_kb(), rtt);
    if (rep)
        freeReplyObject(rep);
    free(info);
    rep = pnw_redis_cmdf(r, "EXPIRE %s 60", id);
    if (rep)
        freeReplyObject(rep);
    /* Running jobs, Sidekiq's <identity>:workers. */
    (void)snprintf(wkey, sizeof wkey, "%s:workers", id);
    char **tids, **vals;
    int n = pnw_pool_running(&tids, &vals);
    rep = pnw_redis_cmdf(r, "DEL %s", wkey);
    if (rep)
        freeReplyObject(rep);
    for (int i = 0; i < n; i++) {
        rep = pnw_redis_cmdf(r, "HSET %s %s %s", wkey, tids[i], vals[i]);
        if (rep)
            freeReplyObject(rep);
        free(tids[i]);
        free(vals[i]);
    }
    free(tids);
    free(vals);
    if (n) {
        rep = pnw_redis_cmdf(r, "EXPIRE %s 60", wkey);
        if (rep)
            freeReplyObject(rep);
    }
    /* Signals sent through Redis (Sidekiq's API: Sidekiq::Process#quiet! and #stop!). */
    (void)snprintf(sig, sizeof sig, "%s-signals", id);
    for (int i = 0; i < 10; i++) {
        rep = pnw_redis_cmdf(r, "RPOP %s", sig);
        if (!rep || rep->type != REDIS_REPLY_STRING) {
            if (rep)
                freeReplyObject(rep);
            break;
        }
        if (!strcmp(rep->str, "TSTP") || !strcmp(rep->str, "USR1")) {
            if (!pnw_rt.quiet)
                pnw_log(PNW_INFO, "lifecycle", "quiet (signal from Redis): no more fetching");
            pnw_rt.quiet = 1;
            pnw_pool_wake();
        } else if (!strcmp(rep->str, "TERM") || !strcmp(rep->str, "INT")) {
            kill(getpid(), SIGTERM);
        }
        freeReplyObject(rep);
    }
    pull_disabled(r);
    publish(r);
}

static void
poll_due(pnw_redis_t *r)
{
    char now[32];
    (void)snprintf(now, sizeof now, "%.6f", pnw_rt.clock->now(pnw_rt.clock->ud));
    for (int i = 0; i < 50; i++) {
        const char *argv[] = {now, "100"};
        redisReply *rep = pnw_redis_eval(r, &pnw_script_poll, 0, 2, argv, NULL);
        long long moved = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
        if (!rep || rep->type == REDIS_REPLY_ERROR)
            pnw_log(PNW_WARN, "poller", "redis: %s", pnw_redis_error(r));
        if (rep)
            freeReplyObject(rep);
        if (moved < 100)
            break;
    }
}

/* Crash accounting for jobs whose process died: after more crashes than the job's retry
 * count it goes to the dead set instead of coming back, so a job that kills its worker
 * cannot crash-loop a fleet. */
static int
handle_orphan(pnw_redis_t *r, const char *q, const char *raw, size_t len)
{
    pnw_payload_t p;
    char why[512], *newp = NULL;
    const char *action = "q";
    double now = pnw_now();
    if (pnw_payload_decode(raw, len, (size_t)pnw_rt.cfg->max_payload, pnw_rt.cfg->max_depth, &p,
                           why, sizeof why) != 0) {
        newp = strndup(raw, len); /* back as it was: the decoder will dead-letter it */
    } else {
        const pnw_class_t *c = pnw_plugins_find(&pnw_rt.reg, p.job_class);
        int limit = pnw_retry_limit(p.retry, c ? c->c.retry : 0);
        int crashes = p.orphaned + 1;
        if (crashes > limit) {
            (void)snprintf(why, sizeof why,
                           "the worker process died while running this job %d "
                           "time%s (crash or kill); not retried again",
                           crashes, crashes > 1 ? "s" : "");
            newp = pnw_payload_failed(&p, "PnWorkerCrash", why, now, p.retry_count + 1);
            action = "d";
            pnw_log(PNW_WARN, "reaper", "class=%s jid=%s dead: %s", p.job_class, p.jid, why);
        } else {
            newp = pnw_payload_orphaned(&p, crashes);
            pnw_log(PNW_INFO, "reaper", "class=%s jid=%s returned to queue %s (its process died)",
                    p.job_class, p.jid, q);
        }
        pnw_payload_clear(&p);
    }
    if (!newp)
        return -1;
    char nows[32], dmax[16], dcut[32];
    (void)snprintf(nows, sizeof nows, "%.6f", now);
    (void)snprintf(dmax, sizeof dmax, "%d", pnw_rt.cfg->dead_max);
    (void)snprintf(dcut, sizeof dcut, "%.6f", now - pnw_rt.cfg->dead_days * 86400.0);
    const char *argv[] = {q, raw, action, newp, nows, dmax, dcut};
    size_t lens[] = {strlen(q), len, 1, strlen(newp), strlen(nows), strlen(dmax), strlen(dcut)};
    redisReply *rep = pnw_redis_eval(r, &pnw_script_orphan, 0, 7, argv, lens);
    int rc = rep && rep->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rep)
        freeReplyObject(rep);
    free(newp);
    return rc;
}

static void
reap(pnw_redis_t *r)
{
    const char *argv[] = {pnw_rt.identity};
    redisReply *rep = pnw_redis_eval(r, &pnw_script_reap, 0, 1, argv, NULL);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[0]->integer > 0)
        pnw_log(PNW_WARN, "reaper",
                "recovered %lld jobs of dead worker processes (%lld were running, %lld "
                "only fetched)",
                rep->element[0]->integer, rep->element[1]->integer,
                rep->element[0]->integer - rep->element[1]->integer);
    if (rep)
        freeReplyObject(rep);
    rep = pnw_redis_cmdf(r, "SMEMBERS pn:orphanq");
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        if (rep)
            freeReplyObject(rep);
        return;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        char key[128];
        int kn = snprintf(key, sizeof key, "pn:orphans:%s", rep->element[i]->str);
        if (kn < 0 || (size_t)kn >= sizeof key)
            continue; /* not one of ours: queue names have at most 64 characters */
        for (int k = 0; k < 10000; k++) {
            redisReply *o = pnw_redis_cmdf(r, "LINDEX %s -1", key);
            if (!o || o->type != REDIS_REPLY_STRING) {
                if (o && o->type == REDIS_REPLY_NIL) {
                    redisReply *x = pnw_redis_cmdf(r, "SREM pn:orphanq %s", rep->element[i]->str);
                    if (x)
                        freeReplyObject(x);
                }
                if (o)
                    freeReplyObject(o);
                break;
            }
            int rc = handle_orphan(r, rep->element[i]->str, o->str, o->len);
            freeReplyObject(o);
            if (rc != 0)
                break;
        }
    }
    freeReplyObject(rep);
}

static long last_minute;

static void
fire_crons(pnw_redis_t *r)
{
    const pnw_config_t *c = pnw_rt.cfg;
    long minute = (long)(pnw_now() / 60);
    if (!c->nschedules || minute == last_minute)
        return;
    long from = last_minute && minute - last_minute <= 5 ? last_minute + 1 : minute;
    for (long m = from; m <= minute; m++)
        for (size_t i = 0; i < c->nschedules; i++) {
            const pnw_schedule_t *s = &c->schedules[i];
            if (!pnw_cron_match(&crons[i], (time_t)(m * 60)))
                continue;
            unsigned char rnd[12];
            char jid[25], key[300];
            if (pnw_random(rnd, sizeof rnd) != 0)
                continue;
            for (size_t b = 0; b < 12; b++)
                (void)snprintf(jid + 2 * b, 3, "%02x", rnd[b]);
            double now = pnw_now();
            json_t *args = json_loads(s->args_json, JSON_DECODE_ANY, NULL);
            json_t *o = json_pack("{s:o, s:s, s:s, s:o, s:s, s:f, s:f, s:s}", "retry",
                                  s->retry < 0 ? json_true() : json_integer(s->retry), "queue",
                                  s->queue, "class", s->job_class, "args",
                                  json_is_array(args) ? json_incref(args) : json_array(), "jid",
                                  jid, "created_at", now, "enqueued_at", now, "pn_cron", s->name);
            json_decref(args);
            char *payload = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            json_decref(o);
            if (!payload)
                continue;
            int kn = snprintf(key, sizeof key, "pn:cron:%s:%ld", s->name, m);
            if (kn < 0 || (size_t)kn >= sizeof key) { /* a cut key could merge two schedules */
                pnw_log(PNW_WARN, "cron", "schedule=%.200s: name too long, skipped", s->name);
                free(payload);
                continue;
            }
            const char *argv[] = {key, "3600", s->queue, payload};
            redisReply *rep = pnw_redis_eval(r, &pnw_script_cron, 0, 4, argv, NULL);
            if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
                pnw_log(PNW_INFO, "cron", "schedule=%s class=%s jid=%s enqueued", s->name,
                        s->job_class, jid);
            else if (!rep || rep->type == REDIS_REPLY_ERROR)
                pnw_log(PNW_WARN, "cron", "schedule=%s redis: %s", s->name, pnw_redis_error(r));
            if (rep)
                freeReplyObject(rep);
            free(payload);
        }
    last_minute = minute;
}

static void *
house(void *ud)
{
    (void)ud;
    const pnw_config_t *c = pnw_rt.cfg;
    pnw_redis_t *r = pnw_redis_new(&pnw_rt.addr, c->redis_timeout);
    double next_beat = 0, next_poll = 0, next_reap = 0;
    last_minute = (long)(pnw_now() / 60) - 1;
    while (!house_exit) {
        double now = pnw_now();
        if (now >= next_beat) {
            heartbeat(r);
            next_beat = now + c->heartbeat_interval;
        }
        if (!pnw_rt.stopping && now >= next_poll) {
            poll_due(r);
            fire_crons(r);
            next_poll = now + c->poll_interval;
        }
        if (!pnw_rt.stopping && now >= next_reap) {
            reap(r);
            next_reap = now + c->heartbeat_interval;
        }
        double wait = next_beat;
        if (!pnw_rt.stopping && next_poll < wait)
            wait = next_poll;
        if (!pnw_rt.stopping && next_reap < wait)
            wait = next_reap;
        wait -= pnw_now();
        nap(wait < 0.01 ? 0.01 : wait > 0.1 ? 0.1 : wait);
    }
    pnw_redis_free(r);
    return NULL;
}

int
pnw_house_start(void)
{
    const pnw_config_t *c = pnw_rt.cfg;
    crons = calloc(c->nschedules + 1, sizeof *crons);
    if (!crons)
        return -1;
    for (size_t i = 0; i < c->nschedules; i++) {
        char err[200];
        if (pnw_cron_parse(c->schedules[i].cron, &crons[i], err, sizeof err) != 0) {
            pnw_log(PNW_ERROR, "config", "schedule %s: cron \"%s\": %s", c->schedules[i].name,
                    c->schedules[i].cron, err);
            return -1;
        }
        json_t *a = json_loads(c->schedules[i].args_json, JSON_DECODE_ANY, NULL);
        bool ok = json_is_array(a);
        json_decref(a);
        if (!ok) {
            pnw_log(PNW_ERROR, "config", "schedule %s: args must be a JSON array",
                    c->schedules[i].name);
            return -1;
        }
    }
    if (pthread_create(&house_thread, NULL, house, NULL) != 0)
        return -1;
    house_started = true;
    return 0;
}

void
pnw_house_stop(void)
{
    if (!house_started)
        return;
    house_exit = 1;
    pthread_join(house_thread, NULL);
    house_started = false;
    free(crons);
    crons = NULL;
}

int
pnw_house_release(void)
{
    pnw_redis_t *r = pnw_redis_new(&pnw_rt.addr, pnw_rt.cfg->redis_timeout);
    const char *argv[] = {pnw_rt.identity};
    int n = -1;
    for (int attempt = 0; attempt < 3 && n < 0; attempt++) {
        redisReply *rep = pnw_redis_eval(r, &pnw_script_release, 0, 1, argv, NULL);
        if (rep && rep->type == REDIS_REPLY_INTEGER)
            n = (int)rep->integer;
        else
            nap(0.5);
        if (rep)
            freeReplyObject(rep);
    }
    if (n < 0)
        pnw_log(PNW_ERROR, "shutdown",
                "could not reach redis to return our jobs (%s); the "
                "reaper of another worker will return them",
                pnw_redis_error(r));
    pnw_redis_free(r);
    return n;
}
