/*
 * The kernel's own routes: liveness, readiness, metrics, the OpenAPI document and the plugin
 * list. Identity routes live in auth/ and are added here with the kernel as owner.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "../auth/auth.h"
#include "../core/log.h"
#include "../events/events.h"
#include "../identity/identity.h"
#include "../redis/redis.h"
#include "../router/openapi.h"
#include "app.h"
#include "request.h"

static int
health(pn_req_t *req)
{
    /* Fixed bytes: liveness must stay cheap and must not touch PostgreSQL or Redis. */
    static const char body[] = "{\"success\":true,\"data\":{\"status\":\"ok\"}}";
    return pnk_reply_raw(req, 200, "application/json", body, sizeof body - 1);
}

static int
ready(pn_req_t *req)
{
    bool pending = true;
    int db = pnk_app.db ? pnk_db_ping(pnk_app.db) : PN_E_UNAVAILABLE;
    int redis = pnk_redis_ping(PNK_REDIS_CACHE);
    int queue = pnk_redis_ping(PNK_REDIS_QUEUE);
    pnk_migration_source_t src[128];
    /* Files and applied rows do not go backwards while we run: once everything was applied,
     * later probes need not re-read and re-hash every migration file. */
    static atomic_bool all_applied;

    if (db == PN_OK && atomic_load(&all_applied)) {
        pending = false;
    } else if (db == PN_OK) {
        size_t n = pnk_app_migration_sources(src, 128);
        if (pnk_db_migrations_pending(pnk_app.db, src, n, &pending) != PN_OK)
            pending = true;
        if (!pending)
            atomic_store(&all_applied, true);
    }
    bool ok = db == PN_OK && redis == PN_OK && queue == PN_OK && !pending;
    json_t *checks = json_pack("{s:s, s:s, s:s, s:s}", "database", db == PN_OK ? "ok" : "down",
                               "redis", redis == PN_OK ? "ok" : "down", "queue",
                               queue == PN_OK ? "ok" : "down", "migrations",
                               db != PN_OK ? "unknown"
                               : pending   ? "pending"
                                           : "applied");
    if (ok)
        return pnk_reply_json(req, 200,
                              json_pack("{s:s, s:o}", "status", "ready", "checks", checks), NULL);
    (void)pnk_reply_header(req, "Retry-After", "5");
    json_t *doc = json_pack("{s:b, s:s, s:[], s:o}", "success", 0, "error", "not ready", "details",
                            "checks", checks);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    int rc = text ? pnk_reply_raw(req, 503, "application/json", text, strlen(text))
                  : pnk_fail(req, PN_E_UNAVAILABLE, "not ready");
    free(text);
    return rc;
}

static int
metrics(pn_req_t *req)
{
    size_t n;
    char *text = pnk_metrics_render(&pnk_app.metrics, &n);

    if (text == NULL)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    int rc = pnk_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, n);
    free(text);
    return rc;
}

static int
openapi(pn_req_t *req)
{
    if (pnk_app.openapi_text == NULL)
        return pnk_fail(req, PN_E_UNAVAILABLE, "the API description is not built yet");
    return pnk_reply_raw(req, 200, "application/json", pnk_app.openapi_text, pnk_app.openapi_len);
}

size_t
pnk_app_migration_sources(pnk_migration_source_t *src, size_t cap)
{
    size_t n = 0;

    if (cap == 0)
        return 0;
    src[n++] = (pnk_migration_source_t){"core", PNK_SERVER_VERSION, pnk_app.core_sql_dir};
    for (size_t i = 0; i < pnk_loader_count(pnk_app.loader) && n < cap; i++) {
        pn_plugin_ctx_t *p = pnk_loader_at(pnk_app.loader, i);
        if (p->state == PNK_PLUGIN_ACTIVE && p->sql_dir)
            src[n++] = (pnk_migration_source_t){p->name, p->desc->version, p->sql_dir};
    }
    return n;
}

int
pnk_app_build_openapi(void)
{
    json_t *doc = pnk_openapi_build(pnk_app.router, "Powernode API", "0.1.0");

    if (doc == NULL)
        return -1;
    free(pnk_app.openapi_text);
    pnk_app.openapi_text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (pnk_app.openapi_text == NULL)
        return -1;
    pnk_app.openapi_len = strlen(pnk_app.openapi_text);
    return 0;
}

static int
system_plugins(pn_req_t *req)
{
    json_t *list = json_array();

    for (size_t i = 0; i < pnk_loader_count(pnk_app.loader); i++) {
        pn_plugin_ctx_t *p = pnk_loader_at(pnk_app.loader, i);
        const pn_plugin_t *d = p->desc;
        json_t *deps = json_array();
        for (const char *const *dep = d->depends; dep && *dep; dep++)
            json_array_append_new(deps, json_string(*dep));
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:s, s:s?, s:o, s:b, s:s?}", "name", d->name,
                      "version", d->version, "kind", pnk_plugin_kind_name(d->kind), "abi",
                      (int)d->abi, "abi_tag", d->abi_tag, "route_count", (json_int_t)p->route_count,
                      "state", pnk_plugin_state_name(p->state), "summary", d->summary, "depends",
                      deps, "optional", p->optional, "error", p->error));
    }
    json_t *meta = json_pack("{s:i, s:s, s:s}", "server_abi", PN_PLUGIN_ABI, "server_abi_tag",
                             PN_ABI_TAG, "libevent", event_get_version());
    return pnk_reply_json(req, 200, list, meta);
}

static const char plugins_resp_schema[] =
    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"name\":{\"type\":\"string\"},\"version\":{\"type\":\"string\"},"
    "\"kind\":{\"type\":\"string\",\"enum\":[\"namespace\",\"extension\"]},"
    "\"abi\":{\"type\":\"integer\"},\"route_count\":{\"type\":\"integer\"},"
    "\"state\":{\"type\":\"string\",\"enum\":[\"loaded\",\"disabled\",\"active\",\"failed\"]}}}}";

static const pn_route_t system_routes[] = {
    {PN_GET, "/health", NULL, health, "Liveness: the process answers", 0, NULL, NULL,
     PN_ROUTE_PUBLIC},
    {PN_GET, "/ready", NULL, ready, "Readiness: database, Redis and migrations are in place", 0,
     NULL, NULL, PN_ROUTE_PUBLIC},
    {PN_GET, "/metrics", NULL, metrics, "Prometheus metrics", 0, NULL, NULL,
     PN_ROUTE_PUBLIC | PN_ROUTE_UNDOCUMENTED},
    {PN_GET, "/api/v1/openapi.json", NULL, openapi, "This API as an OpenAPI 3.1 document", 0, NULL,
     NULL, PN_ROUTE_PUBLIC},
    {PN_GET, "/api/v1/system/plugins", "admin.system.read", system_plugins,
     "Loaded plugins and extensions with their state", 0, NULL, plugins_resp_schema, 0},
    PN_ROUTE_END,
};

int
pnk_system_routes_add(char *err, size_t errlen)
{
    const pn_route_t *tables[] = {system_routes, pnk_auth_routes, pnk_identity_routes,
                                  pnk_events_routes};

    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const pn_route_t *r = tables[t]; r->path; r++)
            if (pnk_router_add(pnk_app.router, r, "kernel", NULL, err, errlen) != 0)
                return -1;
    const pn_perm_t *perm_tables[] = {pnk_auth_perms, pnk_identity_perms, pnk_events_perms};
    for (size_t t = 0; t < sizeof perm_tables / sizeof perm_tables[0]; t++)
        for (const pn_perm_t *p = perm_tables[t]; p->name; p++)
            if (pnk_app_perm_add(p, "kernel", err, errlen) != 0)
                return -1;
    return 0;
}
