/* The queues plugin: descriptor, config, permissions, routes. It reads and edits the job
 * queue database (Sidekiq's layout plus the worker's pn:* keys) and never runs a job. */
#include "queues.h"

const char *q_reconcilers;
int64_t q_reconcile_after;
int64_t q_reconcile_max_jobs;

static const pn_config_key_t q_config[] = {
    {"reconcilers", PN_CFG_STRING, "files", 0, 512,
     "comma list of plugins whose jobs.reconciler.<name> service the reconcile route calls"},
    {"reconcile_after", PN_CFG_INT, "300", 0, 86400,
     "seconds a queued row must be old before a reconciler may re-push it"},
    {"reconcile_max_jobs", PN_CFG_INT, "200000", 1, 10000000,
     "most jobs read from Redis to decide what it still holds; over it the pass is refused"},
    PN_CONFIG_END,
};

static const pn_perm_t q_perms[] = {
    {"queues.queues.read", "See job queues, scheduled, retry and dead jobs, worker processes",
     "Queues"},
    {"queues.queues.manage", "Retry and delete queued, scheduled, retry and dead jobs", "Queues"},
    PN_PERM_END,
};

#define PAGE_DOC "Query: page (1..), per_page (1..100)"

static const char results_schema[] =
    "{\"type\":\"object\",\"required\":[\"jid\"],\"properties\":{"
    "\"jid\":{\"type\":\"string\",\"pattern\":\"^[0-9a-f]{24}$\"},"
    "\"ref\":{\"description\":\"any JSON value the job reports\"}}}";

static const pn_route_t q_routes[] = {
    {PN_GET, "/api/v1/queues", "queues.queues.read", q_queues_list, "Queues with size and latency",
     0, NULL, NULL, 0},
    {PN_GET, "/api/v1/queues/processes", "queues.queues.read", q_processes,
     "Worker processes with heartbeats and running jobs", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/queues/stats", "queues.queues.read", q_stats,
     "Processed/failed totals, per day, per job class", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/queues/scheduled", "queues.queues.read", q_set_list,
     "Scheduled jobs (" PAGE_DOC ", order asc|desc)", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/queues/retries", "queues.queues.read", q_set_list,
     "Jobs waiting for a retry (" PAGE_DOC ", order asc|desc)", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/queues/dead", "queues.queues.read", q_set_list,
     "Dead jobs (" PAGE_DOC ", order asc|desc)", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/queues/:name/jobs", "queues.queues.read", q_queue_jobs,
     "Jobs of one queue (" PAGE_DOC ", order newest|oldest)", 0, NULL, NULL, 0},
    {PN_POST, "/api/v1/queues/retries/:jid/retry", "queues.queues.manage", q_set_retry,
     "Move a retry job back to its queue now", 0, NULL, NULL, 0},
    {PN_POST, "/api/v1/queues/dead/:jid/retry", "queues.queues.manage", q_set_retry,
     "Move a dead job back to its queue now", 0, NULL, NULL, 0},
    {PN_DELETE, "/api/v1/queues/retries/:jid", "queues.queues.manage", q_set_delete,
     "Delete a retry job", 0, NULL, NULL, 0},
    {PN_DELETE, "/api/v1/queues/dead/:jid", "queues.queues.manage", q_set_delete,
     "Delete a dead job", 0, NULL, NULL, 0},
    {PN_DELETE, "/api/v1/queues/scheduled/:jid", "queues.queues.manage", q_set_delete,
     "Delete a scheduled job", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/worker/ping", NULL, q_worker_ping, "Worker connectivity check", 0, NULL, NULL,
     PN_ROUTE_SERVICE},
    {PN_POST, "/api/v1/worker/job_results", NULL, q_worker_job_results,
     "Record a job's result once per jid", 65536, results_schema, NULL, PN_ROUTE_SERVICE},
    {PN_POST, "/api/v1/internal/jobs/reconcile", NULL, q_reconcile,
     "Re-push queued job rows that Redis lost", 0, NULL, NULL,
     PN_ROUTE_SERVICE | PN_ROUTE_UNDOCUMENTED},
    PN_ROUTE_END,
};

static int
q_init(pn_plugin_ctx_t *ctx, const pn_host_t *host)
{
    int rc;

    if (!PN_HOST_HAS(host, queue_command)) {
        PN_ERROR("this server has no queue_command in its host table; upgrade the server");
        return PN_E_INTERNAL;
    }
    if ((rc = PN_ADD(host->config_declare, ctx, q_config)) != PN_OK ||
        (rc = PN_ADD(host->perm_add, ctx, q_perms)) != PN_OK ||
        (rc = PN_ADD(host->route_add, ctx, q_routes)) != PN_OK ||
        (rc = host->sql_dir_add(ctx, "sql")) != PN_OK)
        return rc;
    q_reconcilers = host->config_string(ctx, "reconcilers");
    q_reconcile_after = host->config_int(ctx, "reconcile_after");
    q_reconcile_max_jobs = host->config_int(ctx, "reconcile_max_jobs");
    return PN_OK;
}

PN_PLUGIN(.name = "queues", .version = "0.1.0", .kind = PN_KIND_NAMESPACE, .init = q_init,
          .summary = "Job queue administration (Sidekiq layout) and the worker's server routes");
