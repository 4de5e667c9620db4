/*
 * The kernel's own configuration sections, declared as tables like a plugin's, and the
 * decision of which plugins and extensions are enabled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "settings.h"

static const pn_config_key_t server_keys[] = {
    {"name", PN_CFG_STRING, "powernode", 0, 64, "instance name shown in logs and the UI"},
    PN_CONFIG_END,
};

static const pn_config_key_t http_keys[] = {
    {"bind", PN_CFG_STRING, "127.0.0.1", 0, 64, "address to listen on"},
    {"port", PN_CFG_INT, "3000", 0, 65535, "TCP port (0 picks a free one)"},
    {"threads", PN_CFG_INT, "8", 1, 256, "handler threads (handlers may block on the database)"},
    {"max_connections", PN_CFG_INT, "1024", 1, 100000, "open connections; more are closed"},
    {"max_queue", PN_CFG_INT, "1024", 1, 100000, "requests waiting for a thread; 503 beyond"},
    {"max_head", PN_CFG_INT, "16384", 1024, 1048576, "request line + headers, bytes (431)"},
    {"max_uri", PN_CFG_INT, "8192", 256, 65536, "request target length, bytes (414)"},
    {"max_headers", PN_CFG_INT, "100", 8, 1000, "header fields per request (431)"},
    {"max_body", PN_CFG_INT, "1048576", 0, 1073741824,
     "body cap for routes that set none, bytes (413)"},
    {"head_timeout", PN_CFG_DOUBLE, "10", 0.1, 600, "seconds to receive a whole request head"},
    {"body_timeout", PN_CFG_DOUBLE, "15", 0.1, 3600, "idle seconds allowed while reading a body"},
    {"write_timeout", PN_CFG_DOUBLE, "30", 0.1, 3600, "idle seconds allowed while writing"},
    {"keepalive_timeout", PN_CFG_DOUBLE, "60", 0.1, 3600, "idle seconds between requests"},
    {"shutdown_grace", PN_CFG_DOUBLE, "10", 0, 600,
     "seconds in-flight requests get to finish on SIGTERM"},
    {"json_max_depth", PN_CFG_INT, "64", 2, 512, "deepest JSON nesting accepted in a body"},
    PN_CONFIG_END,
};

static const pn_config_key_t database_keys[] = {
    {"url", PN_CFG_STRING, "postgresql:///powernode", 0, 0,
     "libpq connection string (env DATABASE_URL)"},
    {"pool_size", PN_CFG_INT, "16", 1, 512, "connections in the pool"},
    {"acquire_timeout", PN_CFG_DOUBLE, "2", 0.01, 60, "seconds to wait for a free connection"},
    {"connect_timeout", PN_CFG_DOUBLE, "3", 1, 60, "seconds for one connection attempt"},
    {"statement_timeout_ms", PN_CFG_INT, "15000", 0, 3600000, "per statement; 0 = none"},
    {"migrate_on_start", PN_CFG_BOOL, "true", 0, 0, "apply pending migrations at start-up"},
    PN_CONFIG_END,
};

static const pn_config_key_t redis_keys[] = {
    {"url", PN_CFG_STRING, "redis://127.0.0.1:6379/0", 0, 0,
     "cache, rate limits and events (env REDIS_URL)"},
    {"queue_url", PN_CFG_STRING, "", 0, 0,
     "job queues; empty = same server as url, database 1 (env REDIS_QUEUE_URL)"},
    {"timeout", PN_CFG_DOUBLE, "2", 0.05, 60, "seconds for connect and each command"},
    PN_CONFIG_END,
};

static const pn_config_key_t log_keys[] = {
    {"format", PN_CFG_STRING, "text", 0, 8, "text (logfmt-like) or json (one object per line)"},
    {"level", PN_CFG_STRING, "info", 0, 8, "debug, info, warn or error"},
    {"access", PN_CFG_BOOL, "true", 0, 0, "one line per request (independent of level)"},
    PN_CONFIG_END,
};

static const pn_config_key_t paths_keys[] = {
    {"plugins", PN_CFG_STRING, PN_DEFAULT_PLUGIN_DIR, 0, 0, "folder of plugin .so files"},
    {"plugin_data", PN_CFG_STRING, PN_DEFAULT_PLUGIN_DATA_DIR, 0, 0,
     "folder holding <plugin>/sql migrations"},
    {"sql", PN_CFG_STRING, PN_DEFAULT_SQL_DIR, 0, 0, "core migrations folder"},
    {"ui", PN_CFG_STRING, "", 0, 0, "built web UI (frontend/dist); empty = no UI"},
    PN_CONFIG_END,
};

static const pn_config_key_t auth_keys[] = {
    {"issuer", PN_CFG_STRING, "powernode", 0, 256, "JWT iss"},
    {"audience", PN_CFG_STRING, "powernode-api", 0, 256, "JWT aud"},
    {"jwt_key", PN_CFG_STRING, "", 0, 0, "HS256 signing key, >= 32 bytes (env POWERNODE_JWT_KEY)"},
    {"jwt_kid", PN_CFG_STRING, "k1", 0, 64, "key id written in the JWT header"},
    {"jwt_previous_keys", PN_CFG_STRING, "", 0, 0,
     "older keys still accepted, as kid=key,kid=key (rotation)"},
    {"access_ttl", PN_CFG_INT, "900", 60, 86400, "access token lifetime, seconds"},
    {"service_token", PN_CFG_STRING, "", 0, 0,
     "secret for worker service tokens (env WORKER_SERVICE_TOKEN)"},
    {"master_key", PN_CFG_STRING, "", 0, 0,
     "64 hex digits sealing two-factor secrets; empty = two-factor off (env POWERNODE_MASTER_KEY)"},
    {"refresh_ttl", PN_CFG_INT, "2592000", 300, 31622400, "refresh token lifetime, seconds"},
    {"session_max_age", PN_CFG_INT, "7776000", 300, 316224000,
     "seconds a sign-in session lasts however often it is refreshed (then sign in again)"},
    {"lockout_threshold", PN_CFG_INT, "5", 0, 1000,
     "consecutive sign-in failures that lock an account; 0 = never"},
    {"lockout_seconds", PN_CFG_INT, "900", 1, 86400, "how long a locked account stays locked"},
    {"rate_limit_ip_per_minute", PN_CFG_INT, "20", 0, 1000000,
     "login, refresh and mfa requests per client IP per minute; 0 = no limit"},
    {"rate_limit_user_per_minute", PN_CFG_INT, "600", 0, 1000000,
     "authenticated requests per user or API key per minute; 0 = no limit"},
    {"principal_cache_seconds", PN_CFG_DOUBLE, "2", 0, 60,
     "seconds a signed-in user's permissions may be reused without a database read"},
    PN_CONFIG_END,
};

typedef struct {
    const char *section;
    const pn_config_key_t *keys;
    const char *const *reserved;
} section_t;

static const char *const http_reserved[] = {"cors_origins", "trusted_proxies", NULL};
static const char *const loader_reserved[] = {"paths", "disabled", NULL};
static const char *const extensions_reserved[] = {"enabled", NULL};
static const char *const empty_reserved[] = {NULL};
static const pn_config_key_t no_keys[] = {PN_CONFIG_END};

static const section_t sections[] = {
    {"server", server_keys, empty_reserved},
    {"http", http_keys, http_reserved},
    {"database", database_keys, empty_reserved},
    {"redis", redis_keys, empty_reserved},
    {"log", log_keys, empty_reserved},
    {"paths", paths_keys, empty_reserved},
    {"auth", auth_keys, empty_reserved},
    {"loader", no_keys, loader_reserved},
    {"extensions", no_keys, extensions_reserved},
};

int
pnk_settings_declare(pnk_config_t *c, char *err, size_t errlen)
{
    if (pnk_config_env_alias(c, "database", "url", "DATABASE_URL") != 0 ||
        pnk_config_env_alias(c, "redis", "url", "REDIS_URL") != 0 ||
        pnk_config_env_alias(c, "redis", "queue_url", "REDIS_QUEUE_URL") != 0 ||
        pnk_config_env_alias(c, "auth", "jwt_key", "POWERNODE_JWT_KEY") != 0 ||
        pnk_config_env_alias(c, "auth", "service_token", "WORKER_SERVICE_TOKEN") != 0 ||
        pnk_config_env_alias(c, "auth", "master_key", "POWERNODE_MASTER_KEY") != 0) {
        (void)snprintf(err, errlen, "config: out of memory");
        return -1;
    }
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (pnk_config_declare(c, sections[i].section, sections[i].keys, sizeof sections[i].keys[0],
                               sections[i].reserved, err, errlen) != 0)
            return -1;
    return 0;
}

/* plugins.<name>.enabled wins; otherwise namespaces are on unless listed in loader.disabled
 * (or POWERNODE_PLUGINS_DISABLED), and extensions are on only when listed in extensions.enabled
 * (or POWERNODE_EXTENSIONS). */
bool
pnk_settings_plugin_enabled(void *ud, const char *name, pn_kind_t kind, bool *optional)
{
    pnk_config_t *c = ud;
    char path[128], err[256];
    const char *raw;
    const char *const *items;
    size_t n;
    bool b;

    (void)snprintf(path, sizeof path, "plugins.%s.optional", name);
    raw = pnk_config_raw(c, path);
    *optional = raw && pnk_config_parse_bool(raw, &b) == 0 && b;

    (void)snprintf(path, sizeof path, "plugins.%s.enabled", name);
    raw = pnk_config_raw(c, path);
    if (raw && pnk_config_parse_bool(raw, &b) == 0)
        return b;
    if (kind == PN_KIND_EXTENSION) {
        if (pnk_config_list(c, "extensions.enabled", "POWERNODE_EXTENSIONS", &items, &n, err,
                            sizeof err) != 0)
            return false;
        for (size_t i = 0; i < n; i++)
            if (strcmp(items[i], name) == 0)
                return true;
        return false;
    }
    if (pnk_config_list(c, "loader.disabled", "POWERNODE_PLUGINS_DISABLED", &items, &n, err,
                        sizeof err) == 0)
        for (size_t i = 0; i < n; i++)
            if (strcmp(items[i], name) == 0)
                return false;
    return true;
}
