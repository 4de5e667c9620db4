/* POST /api/v1/internal/jobs/reconcile: calls the jobs.reconciler.<name> service of every
 * plugin in plugins.queues.reconcilers, handing each a "does Redis still hold this job?"
 * lookup built from one atomic snapshot of every structure a job can be in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <powernode/jobs_reconciler.h>

#include "queues.h"

/* One snapshot (a script runs atomically, so a job moving between structures is seen once):
 * jid, class and args[0] (strings as is, other values as cjson text) of every job in the
 * queues, the workers' working lists, the orphans, schedule, retry and dead. {-1} when there
 * are more than ARGV[1] jobs. */
static const char lua_snapshot[] =
    "local max, out, n = tonumber(ARGV[1]), {}, 0\n"
    "local function add(p)\n"
    "  n = n + 1\n"
    "  if n > max then return false end\n"
    "  local ok, j = pcall(cjson.decode, p)\n"
    "  if ok and type(j) == 'table' then\n"
    "    local a = type(j.args) == 'table' and j.args[1] or nil\n"
    "    if type(a) ~= 'string' then a = (a == nil) and '' or cjson.encode(a) end\n"
    "    out[#out + 1] = type(j.jid) == 'string' and j.jid or ''\n"
    "    out[#out + 1] = type(j.class) == 'string' and j.class or ''\n"
    "    out[#out + 1] = a\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "local function list(k)\n"
    "  for _, p in ipairs(redis.call('LRANGE', k, 0, -1)) do\n"
    "    if not add(p) then return false end\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "for _, q in ipairs(redis.call('SMEMBERS', 'queues')) do\n"
    "  if not list('queue:' .. q) then return {-1} end\n"
    "end\n"
    "for _, pat in ipairs({'pn:working:*', 'pn:orphans:*'}) do\n"
    "  local c = '0'\n"
    "  repeat\n"
    "    local r = redis.call('SCAN', c, 'MATCH', pat, 'COUNT', 1000, 'TYPE', 'list')\n"
    "    c = r[1]\n"
    "    for _, k in ipairs(r[2]) do if not list(k) then return {-1} end end\n"
    "  until c == '0'\n"
    "end\n"
    "for _, z in ipairs({'schedule', 'retry', 'dead'}) do\n"
    "  for _, p in ipairs(redis.call('ZRANGE', z, 0, -1)) do\n"
    "    if not add(p) then return {-1} end\n"
    "  end\n"
    "end\n"
    "return out\n";

/* An open-addressing set of strings in the request's arena. */
typedef struct {
    pn_req_t *req;
    bool built;
    size_t cap;
    const char **slot;
} held_t;

static uint64_t
fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool
set_has(const held_t *h, const char *k)
{
    for (size_t i = fnv(k) & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
        if (!h->slot[i])
            return false;
        if (!strcmp(h->slot[i], k))
            return true;
    }
}

static void
set_put(held_t *h, const char *k)
{
    size_t i = fnv(k) & (h->cap - 1);
    while (h->slot[i] && strcmp(h->slot[i], k) != 0)
        i = (i + 1) & (h->cap - 1);
    h->slot[i] = k;
}

static int
build(held_t *h, pn_req_t *req)
{
    if (h->built)
        return PN_OK;
    char max[32];
    (void)snprintf(max, sizeof max, "%lld", (long long)q_reconcile_max_jobs);
    json_t *r;
    int rc = Q_CMD(req, &r, "EVAL", lua_snapshot, "0", max);
    if (rc != PN_OK)
        return rc;
    if (json_array_size(r) == 1 && q_int(json_array_get(r, 0)) == -1)
        return pn_fail(req, PN_E_UNAVAILABLE,
                       "the queues hold more than reconcile_max_jobs=%lld jobs; not reconciling",
                       (long long)q_reconcile_max_jobs);
    size_t n = json_array_size(r) / 3 * 2 + 1;
    h->cap = 16;
    while (h->cap < n * 2)
        h->cap <<= 1;
    h->slot = pn_req_alloc(req, h->cap * sizeof *h->slot);
    if (!h->slot)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    memset(h->slot, 0, h->cap * sizeof *h->slot);
    for (size_t i = 0; i + 2 < json_array_size(r); i += 3) {
        const char *jid = json_string_value(json_array_get(r, i));
        const char *cls = json_string_value(json_array_get(r, i + 1));
        const char *arg = json_string_value(json_array_get(r, i + 2));
        if (jid && *jid)
            set_put(h, pn_req_printf(req, "j:%s", jid));
        if (cls && *cls)
            set_put(h, pn_req_printf(req, "c:%s%c%s", cls, 0x1f, arg ? arg : ""));
    }
    h->built = true;
    return PN_OK;
}

static int
held(const pn_jobs_reconcile_t *rc, pn_req_t *req, const char *job_class, const char *arg0,
     bool *out)
{
    held_t *h = rc->priv;
    int e;
    *out = true; /* on any failure, "held": never push on a guess */
    if (!job_class || (e = build(h, req)) != PN_OK)
        return job_class ? e : PN_E_INVALID;
    *out = set_has(h, pn_req_printf(req, "c:%s%c%s", job_class, 0x1f, arg0 ? arg0 : ""));
    return PN_OK;
}

static int
held_jid(const pn_jobs_reconcile_t *rc, pn_req_t *req, const char *jid, bool *out)
{
    held_t *h = rc->priv;
    int e;
    *out = true;
    if (!jid || (e = build(h, req)) != PN_OK)
        return jid ? e : PN_E_INVALID;
    *out = set_has(h, pn_req_printf(req, "j:%s", jid));
    return PN_OK;
}

int
q_reconcile(pn_req_t *req)
{
    held_t h = {.req = req};
    pn_jobs_reconcile_t rc = {.size = sizeof rc,
                              .min_age_s = q_reconcile_after,
                              .held = held,
                              .held_jid = held_jid,
                              .priv = &h};
    json_t *list = pn_host_->req_keep_json(req, json_array());
    int total = 0, failed = 0;
    const char *p = q_reconcilers ? q_reconcilers : "";
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n > 0 && n < 64) {
            char name[64], svc[96];
            (void)snprintf(name, sizeof name, "%.*s", (int)n, p);
            (void)snprintf(svc, sizeof svc, PN_JOBS_RECONCILER_PREFIX "%s", name);
            const pn_jobs_reconciler_t *vt =
                pn_host_->service_get(pn_ctx_, svc, PN_JOBS_RECONCILER_VERSION);
            if (vt &&
                vt->size >= offsetof(pn_jobs_reconciler_t, reconcile) + sizeof vt->reconcile &&
                vt->reconcile) {
                int pushed = 0, e = vt->reconcile(req, &rc, &pushed);
                if (e != PN_OK) {
                    failed++;
                    PN_WARN("reconciler failed name=%s code=%d", name, e);
                    json_array_append_new(list, json_pack("{s:s, s:i, s:b}", "name", name, "pushed",
                                                          pushed, "ok", 0));
                } else {
                    PN_INFO("reconciled name=%s pushed=%d", name, pushed);
                    json_array_append_new(list, json_pack("{s:s, s:i, s:b}", "name", name, "pushed",
                                                          pushed, "ok", 1));
                }
                total += pushed > 0 ? pushed : 0;
            }
        }
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (failed)
        return pn_fail(req, PN_E_UNAVAILABLE, "%d reconciler(s) failed; %d job(s) re-pushed",
                       failed, total);
    return pn_reply_ok(req, json_pack("{s:i, s:O}", "reconciled", total, "reconcilers", list));
}
