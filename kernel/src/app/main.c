/*
 * powernode-server: start-up in a fixed order (config, logging, Redis, PostgreSQL, plugins,
 * migrations, identity, HTTP), the one-shot commands (--migrate, --create-admin,
 * --check-config), and shutdown in reverse.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "../auth/auth.h"
#include "../auth/pcache.h"
#include "../core/log.h"
#include "../events/events.h"
#include "../redis/redis.h"
#include "app.h"
#include "request.h"
#include "settings.h"

typedef struct {
    const char *config_path;
    bool migrate_only, create_admin, check_config;
} options_t;

static void
usage(FILE *f)
{
    (void)fprintf(f, "usage: powernode-server [--config FILE] [--migrate | --create-admin | "
                     "--check-config] [--version]\n"
                     "  --config FILE    YAML configuration (default: $POWERNODE_CONFIG, else "
                     "built-in defaults)\n"
                     "  --migrate        apply pending migrations and exit\n"
                     "  --create-admin   create the first admin (POWERNODE_ADMIN_EMAIL / "
                     "POWERNODE_ADMIN_PASSWORD) and exit\n"
                     "  --check-config   load config and plugins, report problems, and exit\n");
}

static int
parse_args(int argc, char **argv, options_t *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"migrate", no_argument, NULL, 'm'},
        {"create-admin", no_argument, NULL, 'a'},
        {"check-config", no_argument, NULL, 'k'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    o->config_path = getenv("POWERNODE_CONFIG");
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config_path = optarg;
            break;
        case 'm':
            o->migrate_only = true;
            break;
        case 'a':
            o->create_admin = true;
            break;
        case 'k':
            o->check_config = true;
            break;
        case 'v':
            (void)printf("powernode-server %s (plugin ABI %d, %s, libevent %s)\n",
                         PNK_SERVER_VERSION, PN_PLUGIN_ABI, PN_ABI_TAG, event_get_version());
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static int
setup_logging(char *err, size_t errlen)
{
    const char *fmt = pnk_config_string(pnk_app.config, "log", "format");
    int level = pnk_log_level_parse(pnk_config_string(pnk_app.config, "log", "level"));

    if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0) {
        (void)snprintf(err, errlen, "log.format: \"%s\" is not text or json", fmt);
        return -1;
    }
    if (level < 0) {
        (void)snprintf(err, errlen, "log.level: must be debug, info, warn or error");
        return -1;
    }
    pnk_log_setup(fmt, (pnk_log_level_t)level, 2);
    pnk_log_access_enable(pnk_config_bool(pnk_app.config, "log", "access"));
    return 0;
}

static int
load_plugins(char *err, size_t errlen)
{
    const char *dir = pnk_config_string(pnk_app.config, "paths", "plugins");
    const char *const *paths;
    size_t n;
    struct stat st;

    pnk_app.loader = pnk_loader_new();
    if (pnk_app.loader == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (dir[0] && pnk_loader_open_dir(pnk_app.loader, dir, err, errlen) != 0) {
        /* A missing default folder just means no plugins are installed yet. */
        if (!(stat(dir, &st) != 0 && errno == ENOENT && strcmp(dir, PN_DEFAULT_PLUGIN_DIR) == 0))
            return -1;
    }
    if (pnk_config_list(pnk_app.config, "loader.paths", "POWERNODE_PLUGINS_PATHS", &paths, &n, err,
                        errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (pnk_loader_open(pnk_app.loader, paths[i], err, errlen) != 0)
            return -1;
    pnk_loader_policy_t policy = {pnk_settings_plugin_enabled, pnk_app.config};
    if (pnk_loader_resolve(pnk_app.loader, &policy, err, errlen) != 0)
        return -1;
    if (pnk_loader_init(pnk_app.loader, &pnk_host, pnk_app_forget_plugin, NULL, err, errlen) != 0)
        return -1;
    /* A plugin that declared no keys still gets its section checked, so a typo under
     * plugins.<name> is caught; sections of disabled plugins are left alone. */
    static const char *const reserved[] = {"enabled", "optional", NULL};
    static const pn_config_key_t none[] = {PN_CONFIG_END};
    for (size_t i = 0; i < pnk_loader_count(pnk_app.loader); i++) {
        pn_plugin_ctx_t *p = pnk_loader_at(pnk_app.loader, i);
        if (!p->config_declared && pnk_config_declare(pnk_app.config, p->config_section, none,
                                                      sizeof none[0], reserved, err, errlen) != 0)
            return -1;
        p->config_declared = true;
    }
    return pnk_config_check_unknown(pnk_app.config, NULL, err, errlen);
}

static int
migrate(char *err, size_t errlen)
{
    pnk_migration_source_t src[128];
    size_t n = pnk_app_migration_sources(src, 128);
    int applied = 0;

    if (pnk_db_migrate(pnk_app.db, src, n, &applied, err, errlen) != PN_OK)
        return -1;
    PNK_INFO("migrate", "sources=%zu applied=%d", n, applied);
    return 0;
}

static int
setup_auth(char *err, size_t errlen)
{
    pnk_auth_key_t keys[8];
    size_t nkeys = 0;
    const char *key = pnk_config_string(pnk_app.config, "auth", "jwt_key");
    const char *prev = pnk_config_string(pnk_app.config, "auth", "jwt_previous_keys");
    static char prevbuf[4096];

    if (key[0] == '\0') {
        (void)snprintf(err, errlen,
                       "auth.jwt_key is not set (POWERNODE_JWT_KEY, at least 32 bytes; "
                       "scripts/setup.sh generates one)");
        return -1;
    }
    keys[nkeys++] = (pnk_auth_key_t){pnk_config_string(pnk_app.config, "auth", "jwt_kid"), key};
    (void)snprintf(prevbuf, sizeof prevbuf, "%s", prev);
    for (char *save = NULL, *tok = strtok_r(prevbuf, ",", &save); tok && nkeys < 8;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL) {
            (void)snprintf(err, errlen, "auth.jwt_previous_keys: expected kid=key pairs");
            return -1;
        }
        *eq = '\0';
        keys[nkeys++] = (pnk_auth_key_t){tok, eq + 1};
    }
    pnk_auth_config_t cfg = {
        .issuer = pnk_config_string(pnk_app.config, "auth", "issuer"),
        .audience = pnk_config_string(pnk_app.config, "auth", "audience"),
        .keys = keys,
        .nkeys = nkeys,
        .access_ttl = (int)pnk_config_int(pnk_app.config, "auth", "access_ttl"),
        .service_secret = pnk_config_string(pnk_app.config, "auth", "service_token"),
        .master_key = pnk_config_string(pnk_app.config, "auth", "master_key"),
        .refresh_ttl = (int)pnk_config_int(pnk_app.config, "auth", "refresh_ttl"),
        .session_max_age = (int)pnk_config_int(pnk_app.config, "auth", "session_max_age"),
        .lockout_threshold = (int)pnk_config_int(pnk_app.config, "auth", "lockout_threshold"),
        .lockout_seconds = (int)pnk_config_int(pnk_app.config, "auth", "lockout_seconds"),
        .rate_limit_ip = (int)pnk_config_int(pnk_app.config, "auth", "rate_limit_ip_per_minute"),
        .rate_limit_user =
            (int)pnk_config_int(pnk_app.config, "auth", "rate_limit_user_per_minute"),
        .principal_cache_seconds =
            pnk_config_double(pnk_app.config, "auth", "principal_cache_seconds"),
    };
    return pnk_auth_init(&cfg, err, errlen) == PN_OK ? 0 : -1;
}

static int
sync_permissions(char *err, size_t errlen)
{
    const pn_perm_t **list = calloc(
        pnk_app.nperms + 1, sizeof(*list)); /* NOLINT(bugprone-sizeof-expression): pointers */
    const char **owners = calloc(pnk_app.nperms + 1, sizeof(*owners));
    pn_perm_t *perms = calloc(pnk_app.nperms + 1, sizeof(*perms));
    int rc = -1;

    if (list && perms && owners) {
        for (size_t i = 0; i < pnk_app.nperms; i++) {
            perms[i] = (pn_perm_t){pnk_app.perms[i].name, pnk_app.perms[i].description,
                                   pnk_app.perms[i].category};
            list[i] = &perms[i];
            owners[i] = pnk_app.perms[i].owner;
        }
        rc = pnk_auth_sync_permissions(pnk_app.db, list, owners, pnk_app.nperms, err, errlen) ==
                     PN_OK
                 ? 0
                 : -1;
    } else {
        (void)snprintf(err, errlen, "out of memory");
    }
    free(list);
    free(owners);
    free(perms);
    return rc;
}

/* Whether the database has no user yet (the very first start). */
static int
no_users_yet(bool *empty, char *err, size_t errlen)
{
    pnk_db_conn_t *c;
    pnk_arena_t *a = pnk_arena_new(0);
    pn_rows_t *rows = NULL;
    int rc;

    if (a == NULL) {
        (void)snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = pnk_db_acquire(pnk_app.db, &c, err, errlen);
    if (rc == PN_OK) {
        rc = pnk_db_exec(c, "SELECT NOT EXISTS (SELECT 1 FROM users)", 0, NULL, a, &rows, err,
                         errlen);
        pnk_db_release(pnk_app.db, c);
    }
    if (rc == PN_OK) {
        const char *v = pnk_rows_value(rows, 0, 0);
        *empty = v && strcmp(v, "t") == 0;
    }
    pnk_arena_free(a);
    return rc == PN_OK ? 0 : -1;
}

static int
create_admin(char *err, size_t errlen)
{
    const char *email = getenv("POWERNODE_ADMIN_EMAIL");
    const char *password = getenv("POWERNODE_ADMIN_PASSWORD");
    char generated[64] = "";
    bool created = false;

    if (email == NULL || email[0] == '\0')
        email = "admin@powernode.local";
    if (password && password[0] == '\0')
        password = NULL;
    if (pnk_auth_create_admin(pnk_app.db, email, password, generated, sizeof generated, &created,
                              err, errlen) != PN_OK)
        return -1;
    if (!created) {
        (void)printf("admin %s already exists; its password is unchanged\n", email);
        return 0;
    }
    (void)printf("admin created\n  email:    %s\n  password: %s\n", email,
                 password ? "(from POWERNODE_ADMIN_PASSWORD)" : generated);
    if (!password)
        (void)printf("  This password is shown once; change it after signing in.\n");
    return 0;
}

static int
start_http(char *err, size_t errlen)
{
    pnk_http_limits_t l;
    const pnk_config_t *c = pnk_app.config;

    pnk_http_limits_default(&l);
    l.bind = pnk_config_string(c, "http", "bind");
    l.port = (int)pnk_config_int(c, "http", "port");
    l.threads = (int)pnk_config_int(c, "http", "threads");
    l.max_connections = (int)pnk_config_int(c, "http", "max_connections");
    l.max_queue = (int)pnk_config_int(c, "http", "max_queue");
    l.max_head = (size_t)pnk_config_int(c, "http", "max_head");
    l.max_uri = (size_t)pnk_config_int(c, "http", "max_uri");
    l.max_headers = (size_t)pnk_config_int(c, "http", "max_headers");
    l.max_body = (size_t)pnk_config_int(c, "http", "max_body");
    l.head_timeout = pnk_config_double(c, "http", "head_timeout");
    l.body_timeout = pnk_config_double(c, "http", "body_timeout");
    l.write_timeout = pnk_config_double(c, "http", "write_timeout");
    l.keepalive_timeout = pnk_config_double(c, "http", "keepalive_timeout");
    l.shutdown_grace = pnk_config_double(c, "http", "shutdown_grace");
    pnk_http_app_t app = {NULL, pnk_dispatch_on_head, pnk_dispatch_handle, pnk_dispatch_on_done};

    pnk_app.http = pnk_http_server_new(&l, &app, err, errlen);
    if (pnk_app.http == NULL)
        return -1;
    /* Tests and scripts start on port 0 and read the real port from this line. */
    PNK_INFO("http", "listening bind=%s port=%d threads=%d", l.bind,
             pnk_http_server_port(pnk_app.http), l.threads);
    return 0;
}

/* http.trusted_proxies (or POWERNODE_HTTP_TRUSTED_PROXIES): addresses and CIDR blocks of the
 * reverse proxies whose X-Forwarded-For is believed. Empty by default: the TCP peer is the
 * client, so no client can choose the address its rate limits and audit rows see. */
static int
read_trusted_proxies(char *err, size_t errlen)
{
    const char *const *items = NULL;
    size_t n = 0, used = 0;
    char spec[4096] = "", why[200];

    if (pnk_config_list(pnk_app.config, "http.trusted_proxies", "POWERNODE_HTTP_TRUSTED_PROXIES",
                        &items, &n, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(spec + used, sizeof spec - used, "%s ", items[i]);
        if (w < 0 || (size_t)w >= sizeof spec - used) {
            (void)snprintf(err, errlen, "http.trusted_proxies: too long");
            return -1;
        }
        used += (size_t)w;
    }
    pnk_proxy_free(pnk_app.trusted_proxies);
    pnk_app.trusted_proxies = pnk_proxy_parse(spec, why, sizeof why);
    if (pnk_app.trusted_proxies == NULL) {
        (void)snprintf(err, errlen, "http.trusted_proxies: %s", why);
        return -1;
    }
    if (n > 0)
        PNK_INFO("http", "trusted proxies=%zu (X-Forwarded-For believed from them)", n);
    return 0;
}

static int
read_settings(char *err, size_t errlen)
{
    const pnk_config_t *c = pnk_app.config;
    const char *ui = pnk_config_string(c, "paths", "ui");
    char index[4096];
    struct stat st;

    pnk_app.server_name = pnk_config_string(c, "server", "name");
    pnk_app.json_max_depth = (int)pnk_config_int(c, "http", "json_max_depth");
    pnk_app.max_body = (size_t)pnk_config_int(c, "http", "max_body");
    pnk_app.core_sql_dir = pnk_config_string(c, "paths", "sql");
    pnk_app.plugin_data_dir = pnk_config_string(c, "paths", "plugin_data");
    (void)snprintf(index, sizeof index, "%s/index.html", ui);
    pnk_app.ui_dir = ui[0] && stat(index, &st) == 0 ? ui : NULL;
    if (ui[0] && pnk_app.ui_dir == NULL)
        PNK_WARN("static", "paths.ui=%s has no index.html; the web UI is not served", ui);
    return pnk_config_list(pnk_app.config, "http.cors_origins", "POWERNODE_HTTP_CORS_ORIGINS",
                           &pnk_app.cors_origins, &pnk_app.ncors, err, errlen) != 0
               ? -1
               : read_trusted_proxies(err, errlen);
}

static int
connect_stores(char *err, size_t errlen)
{
    const pnk_config_t *c = pnk_app.config;
    const char *qurl = pnk_config_string(c, "redis", "queue_url");
    pnk_redis_config_t rc = {pnk_config_string(c, "redis", "url"), qurl[0] ? qurl : NULL,
                             pnk_config_double(c, "redis", "timeout")};
    pnk_db_config_t dc = {
        .url = pnk_config_string(c, "database", "url"),
        .pool_size = (int)pnk_config_int(c, "database", "pool_size"),
        .acquire_timeout = pnk_config_double(c, "database", "acquire_timeout"),
        .connect_timeout = pnk_config_double(c, "database", "connect_timeout"),
        .statement_timeout_ms = (int)pnk_config_int(c, "database", "statement_timeout_ms"),
    };

    if (pnk_redis_init(&rc, err, errlen) != 0)
        return -1;
    pnk_app.redis_ok = true;
    pnk_app.db = pnk_db_pool_new(&dc, err, errlen);
    if (pnk_app.db == NULL)
        return -1;
    pnk_request_set_db(pnk_app.db);
    return pnk_pcache_start(err, errlen);
}

static void
shutdown_all(void)
{
    if (pnk_app.loader)
        pnk_loader_fini(pnk_app.loader);
    pnk_http_server_free(pnk_app.http);
    pnk_app.http = NULL;
    pnk_events_stop(); /* after the streams ended with the HTTP server, before Redis goes */
    pnk_auth_fini();
    pnk_loader_free(pnk_app.loader);
    pnk_router_free(pnk_app.router);
    pnk_db_pool_free(pnk_app.db);
    if (pnk_app.redis_ok)
        pnk_redis_shutdown();
    for (size_t i = 0; i < pnk_app.nperms; i++) {
        free(pnk_app.perms[i].name);
        free(pnk_app.perms[i].description);
        free(pnk_app.perms[i].category);
        free(pnk_app.perms[i].owner);
    }
    free(pnk_app.perms);
    for (size_t i = 0; i < pnk_app.nservices; i++) {
        free(pnk_app.services[i].name);
        free(pnk_app.services[i].owner);
    }
    free(pnk_app.services);
    free(pnk_app.openapi_text);
    pnk_proxy_free(pnk_app.trusted_proxies);
    pnk_config_free(pnk_app.config);
}

static int
run(const options_t *o, char *err, size_t errlen)
{
    pnk_metrics_init(&pnk_app.metrics);
    pnk_app.config = pnk_config_load(o->config_path, err, errlen);
    if (pnk_app.config == NULL)
        return -1;
    if (pnk_settings_declare(pnk_app.config, err, errlen) != 0 || setup_logging(err, errlen) != 0 ||
        read_settings(err, errlen) != 0)
        return -1;
    PNK_INFO("server", "starting version=%s abi=%d libevent=%s config=%s", PNK_SERVER_VERSION,
             PN_PLUGIN_ABI, event_get_version(), pnk_config_file(pnk_app.config));
    pnk_app.router = pnk_router_new();
    if (pnk_app.router == NULL || pnk_system_routes_add(err, errlen) != 0 ||
        setup_auth(err, errlen) != 0)
        return -1;
    if (connect_stores(err, errlen) != 0 ||
        pnk_events_start(pnk_app.config, pnk_app.db, err, errlen) != 0 ||
        load_plugins(err, errlen) != 0)
        return -1;
    if (o->check_config) {
        (void)printf("configuration OK: %zu plugins found\n", pnk_loader_count(pnk_app.loader));
        return 0;
    }
    if ((o->migrate_only || o->create_admin ||
         pnk_config_bool(pnk_app.config, "database", "migrate_on_start")) &&
        migrate(err, errlen) != 0)
        return -1;
    if (sync_permissions(err, errlen) != 0)
        return -1;
    if (o->migrate_only)
        return 0;
    if (o->create_admin)
        return create_admin(err, errlen);
    /* The first start of a fresh installation makes the administrator (from
     * POWERNODE_ADMIN_EMAIL / POWERNODE_ADMIN_PASSWORD, or a generated password printed once),
     * so there is always a way in. */
    bool empty = false;
    if (no_users_yet(&empty, err, errlen) != 0 || (empty && create_admin(err, errlen) != 0))
        return -1;
    if (pnk_app_build_openapi() != 0) {
        (void)snprintf(err, errlen, "could not build the OpenAPI document");
        return -1;
    }
    if (start_http(err, errlen) != 0)
        return -1;
    int rc = pnk_http_server_run(pnk_app.http);
    /* Shutdown is under way: a repeated SIGTERM (a supervisor's reminder) must not cut short
     * the plugins' fini and the pools' orderly close. */
    (void)signal(SIGTERM, SIG_IGN);
    (void)signal(SIGINT, SIG_IGN);
    PNK_INFO("server", "stopped");
    return rc;
}

int
main(int argc, char **argv)
{
    options_t o = {0};
    char err[1024] = "";

    (void)signal(SIGPIPE, SIG_IGN);
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    int rc = run(&o, err, sizeof err);
    if (rc != 0)
        (void)fprintf(stderr, "powernode-server: %s\n", err[0] ? err : "start-up failed");
    shutdown_all();
    return rc == 0 ? 0 : 1;
}
