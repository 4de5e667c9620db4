/*
 * The host table: every function a plugin can call, with argument checks at the boundary.
 * Registration members run on the main thread during init; the rest are thin wrappers over
 * request.c, db, redis and the registries.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../events/events.h"
#include "../redis/redis.h"
#include "app.h"
#include "request.h"

pnk_app_t pnk_app;

static int
record_error(pn_plugin_ctx_t *ctx, int code, const char *msg)
{
    size_t n = strlen(msg);

    /* Truncation is fine: this is the one-line summary; the full text goes to the log. */
    if (n >= sizeof ctx->last_error)
        n = sizeof ctx->last_error - 1;
    memcpy(ctx->last_error, msg, n);
    ctx->last_error[n] = '\0';
    PNK_ERROR(ctx->name, "%s", msg);
    return code;
}

static int
host_route_add(pn_plugin_ctx_t *ctx, const pn_route_t *routes, size_t elem_size)
{
    char err[512];

    if (routes == NULL || elem_size < offsetof(pn_route_t, flags) + sizeof(uint32_t))
        return record_error(ctx, PN_E_INVALID, "route_add: bad route table");
    for (const char *p = (const char *)routes;; p += elem_size) {
        pn_route_t r = {0};
        memcpy(&r, p, elem_size < sizeof r ? elem_size : sizeof r);
        if (r.path == NULL)
            break;
        if (strncmp(r.path, "/api/", 5) != 0)
            return record_error(ctx, PN_E_INVALID, "route paths of plugins must start with /api/");
        if (pnk_router_add(pnk_app.router, &r, ctx->name, ctx, err, sizeof err) != 0)
            return record_error(ctx, PN_E_INVALID, err);
        ctx->route_count++;
    }
    return PN_OK;
}

int
pnk_app_perm_add(const pn_perm_t *perm, const char *owner, char *err, size_t errlen)
{
    for (size_t i = 0; i < pnk_app.nperms; i++)
        if (strcmp(pnk_app.perms[i].name, perm->name) == 0) {
            (void)snprintf(err, errlen, "permission %s is already registered by %s", perm->name,
                           pnk_app.perms[i].owner);
            return -1;
        }
    if (pnk_app.nperms == pnk_app.perms_cap) {
        size_t cap = pnk_app.perms_cap ? pnk_app.perms_cap * 2 : 64;
        pnk_perm_entry_t *n = realloc(pnk_app.perms, cap * sizeof(*n));
        if (n == NULL) {
            (void)snprintf(err, errlen, "out of memory");
            return -1;
        }
        pnk_app.perms = n;
        pnk_app.perms_cap = cap;
    }
    pnk_perm_entry_t *e = &pnk_app.perms[pnk_app.nperms];
    e->name = strdup(perm->name);
    e->description = strdup(perm->description ? perm->description : "");
    e->category = strdup(perm->category ? perm->category : owner);
    e->owner = strdup(owner);
    if (!e->name || !e->description || !e->category || !e->owner) {
        free(e->name);
        free(e->description);
        free(e->category);
        free(e->owner);
        (void)snprintf(err, errlen, "out of memory");
        return -1;
    }
    pnk_app.nperms++;
    return 0;
}

/* "<plugin>.<resource>.<verb>", lower case: a plugin can only introduce permissions in its own
 * namespace. Its cross-account administration family is "admin.<plugin>.<verb>": the resource
 * slot is the plugin's own name, so no plugin can mint another's admin permission or a kernel
 * one (admin.users.*, admin.system.*). */
static bool
perm_name_ok(const char *name, const char *owner)
{
    size_t ol = strlen(owner), dots = 0;
    const char *own = strncmp(name, "admin.", 6) == 0 ? name + 6 : name;

    if (strncmp(own, owner, ol) != 0 || own[ol] != '.')
        return false;
    for (const char *p = name; *p; p++) {
        if (*p == '.') {
            if (p[1] == '\0' || p[1] == '.')
                return false;
            dots++;
        } else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
            return false;
        }
    }
    return dots == 2 && strlen(name) < 128;
}

static int
host_perm_add(pn_plugin_ctx_t *ctx, const pn_perm_t *perms, size_t elem_size)
{
    char err[512];

    if (perms == NULL || elem_size < sizeof(const char *))
        return record_error(ctx, PN_E_INVALID, "perm_add: bad permission table");
    for (const char *p = (const char *)perms;; p += elem_size) {
        pn_perm_t e = {0};
        memcpy(&e, p, elem_size < sizeof e ? elem_size : sizeof e);
        if (e.name == NULL)
            break;
        if (!perm_name_ok(e.name, ctx->name)) {
            (void)snprintf(err, sizeof err,
                           "permission \"%s\" must be named %s.<resource>.<verb> or "
                           "admin.%s.<verb> in lower case",
                           e.name, ctx->name, ctx->name);
            return record_error(ctx, PN_E_INVALID, err);
        }
        if (pnk_app_perm_add(&e, ctx->name, err, sizeof err) != 0)
            return record_error(ctx, PN_E_INVALID, err);
    }
    return PN_OK;
}

static int
host_sql_dir_add(pn_plugin_ctx_t *ctx, const char *dir)
{
    char path[4096], err[4300];
    struct stat st;

    if (dir == NULL || ctx->sql_dir)
        return record_error(ctx, PN_E_INVALID, "sql_dir_add: one migrations folder per plugin");
    if (dir[0] == '/')
        (void)snprintf(path, sizeof path, "%s", dir);
    else
        (void)snprintf(path, sizeof path, "%s/%s/%s", pnk_app.plugin_data_dir, ctx->name, dir);
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        (void)snprintf(err, sizeof err, "migrations folder %.4000s: %s", path,
                       errno ? strerror(errno) : "not a folder");
        return record_error(ctx, PN_E_INVALID, err);
    }
    ctx->sql_dir = strdup(path);
    return ctx->sql_dir ? PN_OK : record_error(ctx, PN_E_INTERNAL, "out of memory");
}

static int
host_config_declare(pn_plugin_ctx_t *ctx, const pn_config_key_t *keys, size_t elem_size)
{
    static const char *const reserved[] = {"enabled", "optional", NULL};
    char err[600];

    if (ctx->config_declared)
        return record_error(ctx, PN_E_INVALID, "config_declare: called twice");
    if (pnk_config_declare(pnk_app.config, ctx->config_section, keys, elem_size, reserved, err,
                           sizeof err) != 0)
        return record_error(ctx, PN_E_INVALID, err);
    ctx->config_declared = true;
    return PN_OK;
}

static int
host_service_add(pn_plugin_ctx_t *ctx, const char *name, uint32_t version, const void *vt)
{
    char err[300];

    if (name == NULL || vt == NULL || version == 0)
        return record_error(ctx, PN_E_INVALID, "service_add: name, version >= 1 and vtable needed");
    for (size_t i = 0; i < pnk_app.nservices; i++)
        if (strcmp(pnk_app.services[i].name, name) == 0) {
            (void)snprintf(err, sizeof err, "service \"%s\" is already provided by %s", name,
                           pnk_app.services[i].owner);
            return record_error(ctx, PN_E_CONFLICT, err);
        }
    if (pnk_app.nservices == pnk_app.services_cap) {
        size_t cap = pnk_app.services_cap ? pnk_app.services_cap * 2 : 16;
        pnk_service_entry_t *n = realloc(pnk_app.services, cap * sizeof(*n));
        if (n == NULL)
            return record_error(ctx, PN_E_INTERNAL, "out of memory");
        pnk_app.services = n;
        pnk_app.services_cap = cap;
    }
    pnk_service_entry_t *e = &pnk_app.services[pnk_app.nservices];
    e->name = strdup(name);
    e->owner = strdup(ctx->name);
    e->version = version;
    e->vt = vt;
    if (!e->name || !e->owner) {
        free(e->name);
        free(e->owner);
        return record_error(ctx, PN_E_INTERNAL, "out of memory");
    }
    pnk_app.nservices++;
    return PN_OK;
}

void
pnk_app_forget_plugin(void *ud, pn_plugin_ctx_t *p)
{
    (void)ud;
    pnk_router_remove_owner(pnk_app.router, p->name);
    p->route_count = 0;
    /* Compact in place: entries of other owners slide down, this owner's are freed. */
    size_t keep = 0;
    for (size_t i = 0; i < pnk_app.nperms; i++) {
        pnk_perm_entry_t e = pnk_app.perms[i];
        if (strcmp(e.owner, p->name) != 0) {
            pnk_app.perms[keep++] = e;
            continue;
        }
        free(e.name);
        free(e.description);
        free(e.category);
        free(e.owner);
    }
    pnk_app.nperms = keep;
    keep = 0;
    for (size_t i = 0; i < pnk_app.nservices; i++) {
        pnk_service_entry_t e = pnk_app.services[i];
        if (strcmp(e.owner, p->name) != 0) {
            pnk_app.services[keep++] = e;
            continue;
        }
        free(e.name);
        free(e.owner);
    }
    pnk_app.nservices = keep;
    free(p->sql_dir);
    p->sql_dir = NULL;
}

static void host_vlog(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, va_list ap)
    PN_PRINTF(3, 0);

static void
host_vlog(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, va_list ap)
{
    if (level == PN_LOG_ERROR && ctx && ctx->state == PNK_PLUGIN_FOUND) {
        /* During init the last error line becomes the loader's one-line refusal. */
        va_list ap2;
        va_copy(ap2, ap);
        (void)vsnprintf(ctx->last_error, sizeof ctx->last_error, fmt, ap2);
        va_end(ap2);
    }
    pnk_logv((pnk_log_level_t)level, ctx ? ctx->name : "plugin", fmt, ap);
}

static void host_log(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, ...)
    PN_PRINTF(3, 4);

static void
host_log(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    host_vlog(ctx, level, fmt, ap);
    va_end(ap);
}

static const void *
host_service_get(pn_plugin_ctx_t *ctx, const char *name, uint32_t min_version)
{
    for (size_t i = 0; i < pnk_app.nservices; i++) {
        pnk_service_entry_t *e = &pnk_app.services[i];
        if (strcmp(e->name, name) != 0)
            continue;
        if (e->version >= min_version)
            return e->vt;
        PNK_WARN(ctx ? ctx->name : "kernel", "service %s is version %u, need >= %u", name,
                 e->version, min_version);
        return NULL;
    }
    return NULL;
}

static bool
host_extension_active(pn_plugin_ctx_t *ctx, const char *name)
{
    (void)ctx;
    return name && pnk_loader_extension_active(pnk_app.loader, name);
}

static int64_t
host_config_int(pn_plugin_ctx_t *ctx, const char *key)
{
    return pnk_config_int(pnk_app.config, ctx->config_section, key);
}

static bool
host_config_bool(pn_plugin_ctx_t *ctx, const char *key)
{
    return pnk_config_bool(pnk_app.config, ctx->config_section, key);
}

static double
host_config_double(pn_plugin_ctx_t *ctx, const char *key)
{
    return pnk_config_double(pnk_app.config, ctx->config_section, key);
}

static const char *
host_config_string(pn_plugin_ctx_t *ctx, const char *key)
{
    return pnk_config_string(pnk_app.config, ctx->config_section, key);
}

/* ---- request members ---- */

static pn_method_t
host_req_method(pn_req_t *req)
{
    return (pn_method_t)req->http->method_id;
}

static const char *
host_req_path(pn_req_t *req)
{
    return req->http->path;
}

static const char *
host_req_id(pn_req_t *req)
{
    return req->request_id;
}

static const char *
host_req_peer(pn_req_t *req)
{
    return req->http->peer;
}

static const char *
host_req_user_id(pn_req_t *req)
{
    return req->principal.user_id;
}

static const char *
host_req_account_id(pn_req_t *req)
{
    return req->principal.account_id;
}

static char *host_req_vprintf(pn_req_t *req, const char *fmt, va_list ap) PN_PRINTF(2, 0);

static char *
host_req_vprintf(pn_req_t *req, const char *fmt, va_list ap)
{
    return pnk_arena_vprintf(req->arena, fmt, ap);
}

static int
host_req_defer(pn_req_t *req, pn_defer_fn fn, void *arg)
{
    return pnk_arena_defer(req->arena, fn, arg) == 0 ? PN_OK : PN_E_INTERNAL;
}

static int
host_rows_count(const pn_rows_t *rows)
{
    return rows ? pnk_rows_count(rows) : 0;
}

static int
host_redis_command(pn_req_t *req, int argc, const char *const *argv, const size_t *argvlen,
                   json_t **reply)
{
    char err[256];
    json_t *r = NULL;
    int rc =
        pnk_redis_command(PNK_REDIS_CACHE, argc, argv, argvlen, reply ? &r : NULL, err, sizeof err);

    if (rc != PN_OK) {
        PNK_WARN("redis", "command failed: %s", err);
        return pnk_fail(req, rc, rc == PN_E_UNAVAILABLE ? "cache unavailable" : "cache error");
    }
    if (reply)
        *reply = pnk_req_keep_json(req, r);
    return PN_OK;
}

static int
host_queue_command(pn_req_t *req, int argc, const char *const *argv, const size_t *argvlen,
                   json_t **reply)
{
    char err[256];
    json_t *r = NULL;
    int rc =
        pnk_redis_command(PNK_REDIS_QUEUE, argc, argv, argvlen, reply ? &r : NULL, err, sizeof err);

    if (rc != PN_OK) {
        PNK_WARN("redis", "queue command failed: %s", err);
        return pnk_fail(req, rc,
                        rc == PN_E_UNAVAILABLE ? "job queue unavailable" : "job queue error");
    }
    if (reply)
        *reply = pnk_req_keep_json(req, r);
    return PN_OK;
}

static int
publish_for(pn_req_t *req, const char *account_id, const char *channel, const char *type,
            json_t *data)
{
    char err[256];
    const char *owner = req->plugin ? req->plugin->name : NULL;
    size_t n = owner ? strlen(owner) : 0;

    /* A plugin publishes under its own name only (so "<plugin>.<resource>.read" is its own
     * permission); kernel code may also use the kernel channels. Rules: events/README.md. */
    if (channel == NULL || type == NULL ||
        (owner && (strncmp(channel, owner, n) != 0 || channel[n] != '.'))) {
        json_decref(data);
        return pnk_fail(req, PN_E_INTERNAL, "event channel must be %s.<resource>",
                        owner ? owner : "<plugin>");
    }
    int rc = pnk_events_publish(account_id, channel, type, data, NULL, err, sizeof err);
    if (rc == PN_E_INVALID)
        return pnk_fail(req, PN_E_INTERNAL, "event not published: %s", err);
    return rc == PN_OK ? PN_OK : pnk_fail(req, rc, "event could not be published");
}

static int
host_event_publish(pn_req_t *req, const char *channel, const char *type, json_t *data)
{
    return publish_for(req, req->principal.account_id, channel, type, data);
}

static int
host_event_publish_account(pn_req_t *req, const char *account_id, const char *channel,
                           const char *type, json_t *data)
{
    if (account_id == NULL) {
        json_decref(data);
        return pnk_fail(req, PN_E_INTERNAL, "event_publish_account needs an account");
    }
    return publish_for(req, account_id, channel, type, data);
}

static int
host_job_enqueue(pn_req_t *req, const char *job_class, const char *queue, json_t *args, double at,
                 char jid_out[25])
{
    char err[256], jid[25];
    int rc = pnk_job_enqueue(job_class, queue, args, at, -1, jid, err, sizeof err);

    if (rc != PN_OK)
        return pnk_fail(req, rc, "%s", rc == PN_E_INVALID ? err : "job queue unavailable");
    if (jid_out)
        memcpy(jid_out, jid, 25);
    return PN_OK;
}

/* Appended during development (ABI 1): zero-copy file replies for plugins (files downloads). */
static int
host_reply_fd(pn_req_t *req, int status, const char *content_type, int fd, uint64_t offset,
              uint64_t length)
{
    struct stat st;

    if (fd < 0)
        return pnk_fail(req, PN_E_INTERNAL, "reply_fd: no file");
    if (req->replied || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        offset > (uint64_t)st.st_size || length > (uint64_t)st.st_size - offset ||
        length > SIZE_MAX || (status != 200 && status != 206)) {
        close(fd);
        return pnk_fail(req, PN_E_INTERNAL, "reply_fd: bad file, range or status");
    }
    if (content_type)
        pnk_reply_header(req, "Content-Type", content_type);
    req->replied = true;
    req->resp->status = status;
    req->resp->fd = fd;
    req->resp->file_offset = (off_t)offset;
    req->resp->file_len = (size_t)length;
    return PN_OK;
}

/* Appended during development (ABI 1): streaming replies. The producer runs on a thread of
 * its own with a request of its own, because the handler's request ends with the stream,
 * which may be before the producer notices (a client that went away). */
#define STREAM_MAX 64
#define STREAM_PENDING PN_MIB(1)
#define STREAM_PIECE PN_KIB(256)
#define STREAM_STALL_MS 30000
#define STREAM_UD_MAX PN_KIB(64)

typedef struct stream_job {
    pnk_http_stream_t *st;
    pn_req_t req; /* the producer's own */
    pnk_http_request_t http;
    pnk_http_response_t resp;
    pn_stream_fn produce;
    void *ud;
} stream_job_t;

static atomic_int streams_running;
static _Thread_local stream_job_t *cur_stream;

static void
stream_closed(void *ud)
{
    (void)ud; /* the producer learns it from a failing wait or write */
}

static int
stream_write(pn_req_t *sreq, const void *data, size_t len)
{
    stream_job_t *j = cur_stream;
    const char *p = data;

    if (j == NULL || sreq != &j->req || (data == NULL && len > 0))
        return PN_E_INTERNAL;
    while (len > 0) {
        size_t n = len < STREAM_PIECE ? len : STREAM_PIECE;
        if (pnk_http_stream_wait(j->st, n, STREAM_STALL_MS) != 0 ||
            pnk_http_stream_write(j->st, p, n) != 0)
            return PN_E_UNAVAILABLE;
        p += n;
        len -= n;
    }
    return PN_OK;
}

static void *
stream_main(void *arg)
{
    stream_job_t *j = arg;
    pnk_arena_t *arena = j->req.arena;

    cur_stream = j;
    pnk_log_set_request(j->req.request_id);
    int rc = j->produce(&j->req, j->ud, stream_write);
    if (rc != PN_OK)
        PNK_WARN("request", "streaming reply ended early route=%s code=%d error=\"%s\"",
                 j->req.route ? j->req.route->path : "-", rc,
                 j->req.err_msg ? j->req.err_msg : "-");
    if (j->req.db) {
        if (pnk_db_in_tx(j->req.db))
            pnk_req_db_rollback(&j->req);
        pnk_db_release(pnk_request_db(), j->req.db);
        j->req.db = NULL;
    }
    if (rc != PN_OK)
        pnk_http_stream_abort(j->st);
    pnk_http_stream_close(j->st);
    cur_stream = NULL;
    pnk_log_set_request(NULL);
    pnk_arena_free(arena);
    atomic_fetch_sub(&streams_running, 1);
    return NULL;
}

/* The producer's request: who is asking and for which route, nothing of the handler's arena. */
static stream_job_t *
stream_job_new(pn_req_t *req, pn_stream_fn produce, const void *ud, size_t ud_size)
{
    pnk_arena_t *a = pnk_arena_new(PN_KIB(16));
    stream_job_t *j = a ? pnk_arena_calloc(a, 1, sizeof(*j)) : NULL;

    if (j == NULL) {
        pnk_arena_free(a);
        return NULL;
    }
    j->produce = produce;
    j->http.arena = a;
    j->http.method = pnk_arena_strdup(a, req->http->method);
    j->http.method_id = req->http->method_id;
    j->http.path = pnk_arena_strdup(a, req->http->path ? req->http->path : "");
    j->http.raw_path = j->http.path;
    j->http.target = j->http.path;
    memcpy(j->http.peer, req->http->peer, sizeof j->http.peer);
    j->resp.fd = -1;
    j->req.http = &j->http;
    j->req.resp = &j->resp;
    j->req.arena = a;
    j->req.request_id = req->request_id ? pnk_arena_strdup(a, req->request_id) : NULL;
    j->req.route = req->route;
    j->req.plugin = req->plugin;
    j->req.principal.kind = req->principal.kind;
    if (req->principal.user_id)
        j->req.principal.user_id = pnk_arena_strdup(a, req->principal.user_id);
    if (req->principal.account_id)
        j->req.principal.account_id = pnk_arena_strdup(a, req->principal.account_id);
    if (ud_size && (j->ud = pnk_arena_memdup(a, ud, ud_size)) == NULL) {
        pnk_arena_free(a);
        return NULL;
    }
    if (j->http.method == NULL || j->http.path == NULL ||
        (req->request_id && j->req.request_id == NULL) ||
        (req->principal.user_id && j->req.principal.user_id == NULL) ||
        (req->principal.account_id && j->req.principal.account_id == NULL)) {
        pnk_arena_free(a);
        return NULL;
    }
    return j;
}

static int
host_reply_stream(pn_req_t *req, int status, const char *content_type, pn_stream_fn produce,
                  const void *ud, size_t ud_size)
{
    stream_job_t *j;
    pthread_attr_t attr;
    pthread_t tid;

    if (req->replied || produce == NULL || (status != 200 && status != 206) ||
        ud_size > STREAM_UD_MAX || (ud == NULL && ud_size > 0))
        return pnk_fail(req, PN_E_INTERNAL, "reply_stream: bad arguments or already replied");
    if (atomic_fetch_add(&streams_running, 1) >= STREAM_MAX) {
        atomic_fetch_sub(&streams_running, 1);
        return pnk_fail(req, PN_E_UNAVAILABLE, "too many streaming replies; try again");
    }
    if ((j = stream_job_new(req, produce, ud, ud_size)) == NULL) {
        atomic_fetch_sub(&streams_running, 1);
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    }
    if (content_type)
        pnk_reply_header(req, "Content-Type", content_type);
    req->resp->status = status;
    j->st = pnk_http_stream_start(req->http, req->resp, STREAM_PENDING, stream_closed, NULL);
    if (j->st == NULL) {
        pnk_arena_free(j->req.arena);
        atomic_fetch_sub(&streams_running, 1);
        return pnk_fail(req, PN_E_INTERNAL, "reply_stream: cannot start a stream");
    }
    req->replied = true;
    if (req->http->method_id == PN_HEAD) {
        pnk_http_stream_close(j->st);
        pnk_arena_free(j->req.arena);
        atomic_fetch_sub(&streams_running, 1);
        return PN_OK;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&tid, &attr, stream_main, j);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        /* The head is promised already: the body ends at once and the client sees a cut. */
        PNK_ERROR("request", "reply_stream: cannot start a thread: %s", strerror(e));
        pnk_http_stream_close(j->st);
        pnk_arena_free(j->req.arena);
        atomic_fetch_sub(&streams_running, 1);
    }
    return PN_OK;
}

const pn_host_t pnk_host = {
    .abi = PN_PLUGIN_ABI,
    .size = sizeof(pn_host_t),
    .route_add = host_route_add,
    .perm_add = host_perm_add,
    .sql_dir_add = host_sql_dir_add,
    .config_declare = host_config_declare,
    .service_add = host_service_add,
    .log = host_log,
    .vlog = host_vlog,
    .service_get = host_service_get,
    .extension_active = host_extension_active,
    .config_int = host_config_int,
    .config_bool = host_config_bool,
    .config_double = host_config_double,
    .config_string = host_config_string,
    .uuid_v7 = pnk_uuid_v7,
    .req_method = host_req_method,
    .req_path = host_req_path,
    .req_param = pnk_req_param,
    .req_query = pnk_req_query,
    .req_header = pnk_req_header,
    .req_body = pnk_req_body,
    .req_json = pnk_req_json,
    .req_id = host_req_id,
    .req_peer = host_req_peer,
    .req_user_id = host_req_user_id,
    .req_account_id = host_req_account_id,
    .req_can = pnk_req_can,
    .req_alloc = pnk_req_alloc,
    .req_strdup = pnk_req_strdup,
    .req_vprintf = host_req_vprintf,
    .req_defer = host_req_defer,
    .req_keep_json = pnk_req_keep_json,
    .reply_json = pnk_reply_json,
    .reply_raw = pnk_reply_raw,
    .reply_header = pnk_reply_header,
    .vfail = pnk_vfail,
    .vfail_field = pnk_vfail_field,
    .db_query = pnk_req_db_query,
    .db_begin = pnk_req_db_begin,
    .db_commit = pnk_req_db_commit,
    .db_rollback = pnk_req_db_rollback,
    .rows_count = host_rows_count,
    .rows_columns = pnk_rows_columns,
    .rows_column = pnk_rows_column,
    .rows_value = pnk_rows_value,
    .rows_json = pnk_rows_json,
    .redis_command = host_redis_command,
    .event_publish = host_event_publish,
    .job_enqueue = host_job_enqueue,
    .reply_fd = host_reply_fd,
    .queue_command = host_queue_command,
    .event_publish_account = host_event_publish_account,
    .reply_stream = host_reply_stream,
    .req_client_ip = pnk_req_client_ip,
};
