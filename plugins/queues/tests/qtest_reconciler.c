/* Test-only plugin: a reconciler over three fixed "rows" (args "row-a", "row-b", "row-c" of
 * class Qtest::Job), re-pushing to queue qtest the ones Redis does not hold; and a route that
 * enqueues many jobs through the kernel's job_enqueue, for throughput tests through the API. */
#include <powernode/jobs_reconciler.h>
#include <powernode/plugin.h>

static int
qt_reconcile(pn_req_t *req, const pn_jobs_reconcile_t *rc, int *pushed)
{
    static const char *const rows[] = {"row-a", "row-b", "row-c"};
    *pushed = 0;
    for (int i = 0; i < 3; i++) {
        bool h;
        int e = rc->held(rc, req, "Qtest::Job", rows[i], &h);
        if (e != PN_OK)
            return e;
        if (h)
            continue;
        e = pn_host_->job_enqueue(req, "Qtest::Job", "qtest", json_pack("[s]", rows[i]), 0, NULL);
        if (e != PN_OK)
            return e;
        (*pushed)++;
    }
    return PN_OK;
}

/* POST /api/v1/qtest/jobs {"class", "count", "queue"?}: jobs with args [i], i = 0..count-1. */
static int
qt_enqueue(pn_req_t *req)
{
    json_t *body = pn_req_json(req);
    const char *cls = json_string_value(json_object_get(body, "class"));
    const char *queue = json_string_value(json_object_get(body, "queue"));
    json_int_t n = json_integer_value(json_object_get(body, "count"));
    for (json_int_t i = 0; i < n; i++) {
        int e = pn_host_->job_enqueue(req, cls, queue ? queue : "default", json_pack("[I]", i), 0,
                                      NULL);
        if (e != PN_OK)
            return pn_fail(req, e, "enqueue %lld of %lld failed", (long long)i, (long long)n);
    }
    return pn_reply_ok(req, json_pack("{s:I}", "enqueued", n));
}

static const char enqueue_schema[] =
    "{\"type\":\"object\",\"required\":[\"class\",\"count\"],\"additionalProperties\":false,"
    "\"properties\":{\"class\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
    "\"queue\":{\"type\":\"string\",\"pattern\":\"^[a-z_]{1,50}$\"},"
    "\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":50000}}}";

static const pn_route_t qt_routes[] = {
    {PN_POST, "/api/v1/qtest/jobs", "queues.queues.manage", qt_enqueue,
     "Enqueue count jobs of a class (test-only)", 4096, enqueue_schema, NULL,
     PN_ROUTE_UNDOCUMENTED},
    PN_ROUTE_END,
};

static const pn_jobs_reconciler_t qt_vt = {.size = sizeof qt_vt, .reconcile = qt_reconcile};

static int
qt_init(pn_plugin_ctx_t *ctx, const pn_host_t *host)
{
    int rc = PN_ADD(host->route_add, ctx, qt_routes);
    if (rc != PN_OK)
        return rc;
    return host->service_add(ctx, PN_JOBS_RECONCILER_PREFIX "qtest", PN_JOBS_RECONCILER_VERSION,
                             &qt_vt);
}

PN_PLUGIN(.name = "qtest", .version = "0.0.1", .kind = PN_KIND_NAMESPACE, .init = qt_init,
          .summary = "test reconciler for the queues plugin");
