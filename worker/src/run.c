/* One job through a job thread: decode, check, runaway guard, execute, and the outcome the
 * dispatcher writes back to Redis (acknowledge, retry, dead, discard or reschedule). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "payload.h"
#include "runtime.h"
#include "wlog.h"

double
pnw_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
pnw_item_free(pnw_item_t *it)
{
    if (!it)
        return;
    free(it->queue);
    free(it->payload);
    free(it->newp);
    free(it);
}

/* The dead set, straight away, for a payload that decoded but cannot run. */
static void
to_dead(pnw_item_t *it, pnw_payload_t *p, const char *error_class, const char *why)
{
    double now = pnw_rt.clock->now(pnw_rt.clock->ud);
    pnw_log(PNW_WARN, "job", "class=%s jid=%s dead: %s", p->job_class, p->jid, why);
    it->newp = pnw_payload_failed(p, error_class, why, now, p->retry_count + 1);
    it->kind = 'd';
    it->score = now;
}

static void
after_failure(pnw_item_t *it, pnw_payload_t *p, const pnw_class_t *c, int rc, bool api,
              const char *msg)
{
    pnw_plan_t plan =
        pnw_retry_plan(p->retry, c->c.retry, p->retry_count, api || rc == PN_JOB_API_ERROR,
                       rc == PN_JOB_DEAD, pnw_rt.clock, pnw_rt.cfg->retry_scale);
    const char *ecls = rc == PN_JOB_DEAD               ? "PnPermanentFailure"
                       : api || rc == PN_JOB_API_ERROR ? "PnApiError"
                                                       : "PnJobError";
    double now = pnw_rt.clock->now(pnw_rt.clock->ud);
    switch (plan.kind) {
    case PNW_PLAN_DISCARD:
        it->kind = 'x';
        pnw_log(PNW_WARN, "job", "class=%s jid=%s failed (discarded, retry false): %s",
                p->job_class, p->jid, msg);
        return;
    case PNW_PLAN_DEAD:
        it->kind = 'd';
        it->score = now;
        pnw_log(PNW_WARN, "job", "class=%s jid=%s failed, dead after %d attempt%s: %s",
                p->job_class, p->jid, plan.retry_count + 1, plan.retry_count ? "s" : "", msg);
        break;
    case PNW_PLAN_RETRY:
        it->kind = 'r';
        it->score = plan.at;
        pnw_log(PNW_WARN, "job", "class=%s jid=%s failed, retry %d in %.1f s: %s", p->job_class,
                p->jid, plan.retry_count + 1, plan.at - now, msg);
        break;
    }
    it->newp = pnw_payload_failed(p, ecls, msg, now, plan.retry_count);
}

void
pnw_run_item(pnw_item_t *it)
{
    pnw_payload_t p;
    char why[512];
    const pnw_config_t *cfg = pnw_rt.cfg;
    double now = pnw_now();
    if (pnw_payload_decode(it->payload, it->len, (size_t)cfg->max_payload, cfg->max_depth, &p, why,
                           sizeof why) != 0) {
        pnw_log(PNW_WARN, "job", "queue=%s bad payload (%zu bytes) to the dead set: %s", it->queue,
                it->len, why);
        it->newp = pnw_payload_wrap_bad(it->payload, it->len, it->queue, why, now);
        it->kind = it->newp ? 'd' : 'x';
        it->score = now;
        return;
    }
    const pnw_class_t *c = pnw_plugins_find(&pnw_rt.reg, p.job_class);
    if (!c) {
        (void)snprintf(why, sizeof why, "unknown job class %s: no loaded job plugin provides it",
                       p.job_class);
        to_dead(it, &p, "PnUnknownClass", why);
        goto out;
    }
    if (pnw_args_check(c->c.args, p.args, why, sizeof why) != 0) {
        char full[600];
        (void)snprintf(full, sizeof full, "%s: %s", c->c.name, why);
        to_dead(it, &p, "PnBadArguments", full);
        goto out;
    }
    bool newly = false;
    double until = pnw_track_check(pnw_rt.track, p.job_class, p.args, now, &newly, &it->digest,
                                   it->label, sizeof it->label, &it->share);
    if (until > 0) {
        if (newly)
            pnw_log(PNW_WARN, "job",
                    "class=%s jid=%s runaway: more than %d runs in %d s with "
                    "the same arguments; disabled for %d s (jobs wait in the schedule set)",
                    p.job_class, p.jid, cfg->runaway_max, cfg->runaway_window,
                    cfg->runaway_disable);
        it->kind = 's';
        it->score = until;
        it->newp = strndup(it->payload, it->len);
        goto out;
    }
    int attempt = p.retry_count + 2;
    char msg[1024] = "";
    bool api = false;
    if (pnw_log_enabled(PNW_DEBUG))
        pnw_log(PNW_DEBUG, "job", "class=%s jid=%s attempt=%d start", p.job_class, p.jid, attempt);
    int rc = c->c.isolated
                 ? pnw_isolate_run(c, it->payload, it->len, attempt, msg, sizeof msg, &api)
                 : pnw_job_execute(c, &p, attempt, msg, sizeof msg, &api);
    double ms = (pnw_now() - now) * 1000;
    pnw_track_run(pnw_rt.track, c->index, now, ms,
                  rc == PN_JOB_OK     ? "ok"
                  : rc == PN_JOB_DEAD ? "dead"
                                      : "error");
    if (rc == PN_JOB_OK) {
        it->kind = 'a';
        if (pnw_log_enabled(PNW_DEBUG))
            pnw_log(PNW_DEBUG, "job", "class=%s jid=%s done ms=%.1f", p.job_class, p.jid, ms);
    } else {
        after_failure(it, &p, c, rc, api, msg);
    }
out:
    if ((it->kind == 'r' || it->kind == 'd' || it->kind == 's') && !it->newp) {
        /* Out of memory building the new payload: keep the job where it is (it stays in the
         * working list and comes back when this process ends). */
        pnw_log(PNW_ERROR, "job", "jid=%s cannot build the failure payload; left in place", p.jid);
        it->kind = 'k';
    }
    pnw_payload_clear(&p);
}
