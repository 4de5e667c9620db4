/*
 * storage: the plugin descriptor, its configuration keys and init/fini. It registers the
 * provider service (PN_STORAGE_SERVICE), the storage configuration routes and permissions,
 * and the file_storages migration.
 */
#include "storage_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

storage_settings_t storage_settings;

static const pn_config_key_t storage_config[] = {
    {"master_key", PN_CFG_STRING, "", 0, 64,
     "64 hex characters (AES-256 key) sealing provider credentials at rest; without it only "
     "local storages can be configured"},
    {"local_root", PN_CFG_STRING, "var/storage", 0, 1000,
     "folder under which each account's default local storage is made (<local_root>/<account>)"},
    {"local_allowed_roots", PN_CFG_STRING, "", 0, 4000,
     "comma-separated absolute folders where a local storage's root may also lie"},
    {"allow_private_endpoints", PN_CFG_BOOL, "false", 0, 0,
     "let remote storages use http:// and loopback/private addresses (emulators, on-premises)"},
    {"part_size_mb", PN_CFG_INT, "8", 5, 512, "multipart part / block size for large objects"},
    {"connect_timeout", PN_CFG_INT, "10", 1, 120, "seconds to connect to a storage endpoint"},
    {"io_timeout", PN_CFG_INT, "60", 5, 3600,
     "a transfer fails after this many seconds without progress"},
    PN_CONFIG_END,
};

/* Absolute form of a configured folder without '.'/'..' components or a trailing '/'. */
static int
absolute(const char *in, char *out, size_t n)
{
    char cwd[1024];
    int len;

    if (in[0] == '/') {
        len = snprintf(out, n, "%s", in);
    } else {
        if (getcwd(cwd, sizeof cwd) == NULL)
            return -1;
        len = snprintf(out, n, "%s/%s", cwd, in);
    }
    if (len < 0 || (size_t)len >= n)
        return -1;
    while (len > 1 && out[len - 1] == '/')
        out[--len] = '\0';
    for (const char *p = out; (p = strchr(p, '/')) != NULL;) {
        p++;
        size_t c = strcspn(p, "/");
        if ((c == 1 && p[0] == '.') || (c == 2 && p[0] == '.' && p[1] == '.') ||
            (c == 0 && *p == '/'))
            return -1;
    }
    return 0;
}

static int
read_settings(pn_plugin_ctx_t *ctx, const pn_host_t *host)
{
    storage_settings_t *s = &storage_settings;
    st_err_t e;

    memset(s, 0, sizeof *s);
    if (st_master_parse(host->config_string(ctx, "master_key"), &s->master, &e) != PN_OK) {
        PN_ERROR("plugins.storage.master_key: %s", e.msg);
        return PN_E_INVALID;
    }
    if (absolute(host->config_string(ctx, "local_root"), s->local_root, sizeof s->local_root) !=
        0) {
        PN_ERROR("plugins.storage.local_root: not a usable folder path");
        return PN_E_INVALID;
    }
    /* Same size as local_root, so the copy always fits. */
    memcpy(s->roots[s->nroots++], s->local_root, sizeof s->roots[0]);
    const char *list = host->config_string(ctx, "local_allowed_roots");
    while (list != NULL && *list != '\0') {
        size_t len = strcspn(list, ",");
        char one[1024];
        if (len > 0) {
            if (len >= sizeof one || list[0] != '/' || s->nroots >= STORAGE_MAX_ROOTS) {
                PN_ERROR("plugins.storage.local_allowed_roots: each entry must be an absolute "
                         "folder (at most %d)",
                         STORAGE_MAX_ROOTS - 1);
                return PN_E_INVALID;
            }
            memcpy(one, list, len);
            one[len] = '\0';
            if (absolute(one, s->roots[s->nroots], sizeof s->roots[0]) != 0) {
                PN_ERROR("plugins.storage.local_allowed_roots: an entry has '.' or '..'");
                return PN_E_INVALID;
            }
            s->nroots++;
        }
        list += len + (list[len] == ',');
    }
    st_opts_default(&s->opts);
    s->opts.allow_private = host->config_bool(ctx, "allow_private_endpoints");
    s->opts.part_size = (size_t)host->config_int(ctx, "part_size_mb") * PN_MIB(1);
    s->opts.connect_timeout = (long)host->config_int(ctx, "connect_timeout");
    s->opts.io_timeout = (long)host->config_int(ctx, "io_timeout");
    return PN_OK;
}

static int
storage_init(pn_plugin_ctx_t *ctx, const pn_host_t *host)
{
    int rc;

    if ((rc = PN_ADD(host->config_declare, ctx, storage_config)) != PN_OK ||
        (rc = read_settings(ctx, host)) != PN_OK ||
        (rc = PN_ADD(host->perm_add, ctx, storage_perms)) != PN_OK ||
        (rc = PN_ADD(host->route_add, ctx, storage_routes)) != PN_OK ||
        (rc = host->sql_dir_add(ctx, "sql")) != PN_OK)
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        PN_ERROR("libcurl failed to initialise");
        return PN_E_INTERNAL;
    }
    if ((rc = host->service_add(ctx, PN_STORAGE_SERVICE, PN_STORAGE_SERVICE_VERSION,
                                &storage_vt)) != PN_OK) {
        curl_global_cleanup();
        return rc;
    }
    if (!storage_settings.master.set)
        PN_WARN("no master_key: only local storages can be configured");
    PN_INFO("storage ready local_root=%s private_endpoints=%s", storage_settings.local_root,
            storage_settings.opts.allow_private ? "allowed" : "refused");
    return PN_OK;
}

static void
storage_fini(pn_plugin_ctx_t *ctx)
{
    (void)ctx;
    curl_global_cleanup();
    memset(&storage_settings.master, 0, sizeof storage_settings.master);
}

PN_PLUGIN(.name = "storage", .version = "1.0.0", .kind = PN_KIND_NAMESPACE, .init = storage_init,
          .fini = storage_fini,
          .summary = "Storage providers (local disk, S3, Azure Blob, GCS) and per-account "
                     "storage configurations");
