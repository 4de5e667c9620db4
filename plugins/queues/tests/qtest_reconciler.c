/* Test-only plugin: a reconciler over three fixed "rows" (args "row-a", "row-b", "row-c" of
 * class Qtest::Job), re-pushing to queue qtest the ones Redis does not hold. */
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

static const pn_jobs_reconciler_t qt_vt = {.size = sizeof qt_vt, .reconcile = qt_reconcile};

static int
qt_init(pn_plugin_ctx_t *ctx, const pn_host_t *host)
{
    return host->service_add(ctx, PN_JOBS_RECONCILER_PREFIX "qtest", PN_JOBS_RECONCILER_VERSION,
                             &qt_vt);
}

PN_PLUGIN(.name = "qtest", .version = "0.0.1", .kind = PN_KIND_NAMESPACE, .init = qt_init,
          .summary = "test reconciler for the queues plugin");
