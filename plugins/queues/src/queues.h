/* Shared declarations of the queues plugin: Redis helpers over host->queue_command, input
 * checks, payload summaries, and the route handlers. */
#ifndef QUEUES_H
#define QUEUES_H

#include <powernode/plugin.h>

/* Config read in init. */
extern const char *q_reconcilers;
extern int64_t q_reconcile_after;
extern int64_t q_reconcile_max_jobs;

/* One command on the queue database; the reply is owned by the request. */
int q_cmd(pn_req_t *req, json_t **out, int argc, const char *const *argv);
#define Q_CMD(req, out, ...)                                                                       \
    q_cmd((req), (out), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)),             \
          (const char *const[]){__VA_ARGS__})
/* An integer reply (or a numeric string) as int64; 0 for null. */
int64_t q_int(const json_t *j);
double q_now(void);

bool q_jid_ok(const char *s);
bool q_queue_ok(const char *s);
/* page/per_page from the query string; 422 with a field on bad values. */
int q_paging(pn_req_t *req, int64_t *page, int64_t *per_page);
json_t *q_pagination(int64_t page, int64_t per_page, int64_t total);
/* Whether the caller may see the queue database (see README: admin only). */
int q_admin_gate(pn_req_t *req);

/* A display summary of a Sidekiq payload (never NULL). score < 0: none. */
json_t *q_summary(const char *payload, double score);
/* Seconds from the payload's enqueued_at to now, or -1. */
double q_latency(const char *payload, double now);

/* Handlers. */
int q_queues_list(pn_req_t *req);
int q_queue_jobs(pn_req_t *req);
int q_set_list(pn_req_t *req);
int q_set_retry(pn_req_t *req);
int q_set_delete(pn_req_t *req);
int q_processes(pn_req_t *req);
int q_stats(pn_req_t *req);
int q_worker_ping(pn_req_t *req);
int q_worker_job_results(pn_req_t *req);
int q_reconcile(pn_req_t *req);

#endif /* QUEUES_H */
