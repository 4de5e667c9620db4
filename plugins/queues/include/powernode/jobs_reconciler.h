/*
 * The reconciler contract between the queues plugin and plugins that keep job rows in
 * PostgreSQL (files' processing jobs, later agent executions and pipeline steps). PostgreSQL
 * holds the truth and Redis carries the wake-up; this lets the owner of the rows re-push the
 * ones Redis lost. Header-only: a plugin includes it and registers a service, nothing links.
 *
 * Convention: plugin <name> registers, in its init,
 *     host->service_add(ctx, PN_JOBS_RECONCILER_PREFIX "<name>", PN_JOBS_RECONCILER_VERSION, &vt)
 * and the queues plugin calls it on POST /api/v1/internal/jobs/reconcile for every <name> in
 * its config list plugins.queues.reconcilers. Both structs are append-only (size first).
 */
#ifndef POWERNODE_JOBS_RECONCILER_H
#define POWERNODE_JOBS_RECONCILER_H

#include <powernode/types.h>

#define PN_JOBS_RECONCILER_PREFIX "jobs.reconciler."
#define PN_JOBS_RECONCILER_VERSION 1

/* What the queues plugin hands a reconciler for one pass. */
typedef struct pn_jobs_reconcile {
    uint32_t size; /* sizeof at the queues plugin's build */
    /* Leave rows alone that were pushed (or created) less than this many seconds ago: their
     * push may still be on its way. From plugins.queues.reconcile_after. */
    int64_t min_age_s;
    /* Whether any queue structure (queue lists, working lists of workers, orphans, schedule,
     * retry and dead sets) holds a job of class job_class whose args[0] equals arg0. A string
     * argument compares as is; any other JSON value as its compact JSON text. The dead set
     * counts as held, so a reconciler never revives a job that failed for good. The index is
     * built on the first call of the pass. Returns PN_OK, PN_E_UNAVAILABLE (Redis down) or
     * PN_E_TOOLARGE-like codes with the request's error set; never guess "not held" on error. */
    int (*held)(const struct pn_jobs_reconcile *rc, pn_req_t *req, const char *job_class,
                const char *arg0, bool *out);
    /* The same by Sidekiq jid (24 hex digits). */
    int (*held_jid)(const struct pn_jobs_reconcile *rc, pn_req_t *req, const char *jid, bool *out);
    void *priv; /* the queues plugin's; leave alone */
} pn_jobs_reconcile_t;

/* The vtable a row-owning plugin registers. */
typedef struct pn_jobs_reconciler {
    uint32_t size; /* sizeof(pn_jobs_reconciler_t) at the registering plugin's build */
    /* Re-push the plugin's own rows still queued (older than rc->min_age_s) that rc->held says
     * Redis no longer holds, with host->job_enqueue, and set *pushed. Runs on the handler
     * thread of a service request: the request has no account, so the reconciler touches only
     * its own table's rows, in every account. Return PN_OK or a negative code after pn_fail. */
    int (*reconcile)(pn_req_t *req, const pn_jobs_reconcile_t *rc, int *pushed);
} pn_jobs_reconciler_t;

#endif /* POWERNODE_JOBS_RECONCILER_H */
