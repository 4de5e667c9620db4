/*
 * The one kernel instance of a server process: what start-up builds and every request reads.
 * Filled on the main thread before the HTTP loop starts; read-only afterwards except for the
 * parts that say how they are synchronised.
 */
#ifndef PNK_APP_H
#define PNK_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <powernode/plugin.h>

#include "../config/config.h"
#include "../db/db.h"
#include "../http/http.h"
#include "../http/http_proxy.h"
#include "../loader/loader.h"
#include "../router/router.h"
#include "metrics.h"

typedef struct pnk_perm_entry {
    char *name, *description, *category, *owner;
} pnk_perm_entry_t;

typedef struct pnk_service_entry {
    char *name, *owner;
    uint32_t version;
    const void *vt;
} pnk_service_entry_t;

typedef struct pnk_app {
    pnk_config_t *config;
    pnk_router_t *router;
    pnk_loader_t *loader;
    pnk_db_pool_t *db;
    pnk_http_server_t *http;
    bool redis_ok;

    pnk_perm_entry_t *perms;
    size_t nperms, perms_cap;
    pnk_service_entry_t *services;
    size_t nservices, services_cap;

    /* settings read once from config */
    int json_max_depth;
    size_t max_body; /* body cap for routes that set none */
    const char *const *cors_origins;
    size_t ncors;
    pnk_proxy_list_t *trusted_proxies; /* whose X-Forwarded-For names the client */
    const char *ui_dir;                /* NULL when there is no built UI */
    const char *plugin_data_dir;
    const char *core_sql_dir;
    const char *server_name;

    /* built once after start-up (routes never change afterwards) */
    char *openapi_text;
    size_t openapi_len;

    pnk_metrics_t metrics;
} pnk_app_t;

extern pnk_app_t pnk_app;

/* The host table handed to every plugin. */
extern const pn_host_t pnk_host;

/* Register the kernel's own routes and permissions (system, auth). 0 or -1 with err. */
int pnk_system_routes_add(char *err, size_t errlen);
/* Add a permission owned by `owner` to the registry (copies the strings). */
int pnk_app_perm_add(const pn_perm_t *perm, const char *owner, char *err, size_t errlen);
/* Drop the routes, permissions and services an optional plugin registered before failing. */
void pnk_app_forget_plugin(void *ud, pn_plugin_ctx_t *p);
#define PNK_SERVER_VERSION "0.1.0"

/* Migration sources in apply order: core, then active plugins with migrations in init
 * (dependency) order. Returns how many were written (at most cap). */
size_t pnk_app_migration_sources(pnk_migration_source_t *src, size_t cap);
/* Serialize the OpenAPI document once routes are final. */
int pnk_app_build_openapi(void);

/* The HTTP callbacks (dispatch.c). */
int pnk_dispatch_on_head(void *ud, pnk_http_request_t *http, size_t *max_body, const char **msg);
void pnk_dispatch_handle(void *ud, pnk_http_request_t *http, pnk_http_response_t *resp);
void pnk_dispatch_on_done(void *ud, const pnk_http_request_t *http, const pnk_http_response_t *resp,
                          double duration_ms);

/* Static UI files (static.c): answers GET/HEAD for non-API paths. */
struct pn_req;
int pnk_static_serve(struct pn_req *req);

#endif
