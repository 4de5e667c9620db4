/*
 * The host API: the one table of functions the server hands a plugin at init. A plugin calls
 * the server only through this table (it links against nothing of the server), which is what
 * lets a third party build a plugin out of tree. Most plugins use the inline wrappers in
 * reply.h rather than calling these members directly.
 *
 * Growth is append-only: new members go at the end under a version comment, and a plugin that
 * wants a newer member checks PN_HOST_HAS(host, member) first.
 *
 * Threading: registration functions (the ones taking pn_plugin_ctx_t) may be called only from
 * init. Request functions (taking pn_req_t) may be called from the handler thread that owns
 * the request. service_get, extension_active, config_* and log are safe from any thread.
 */
#ifndef POWERNODE_HOST_H
#define POWERNODE_HOST_H

#include <jansson.h>
#include <stdarg.h>

#include <powernode/types.h>

/* A route handler. Runs on a handler thread; it may block on PostgreSQL or Redis. It returns
 * the result of a pn_reply_* / pn_fail call, or PN_OK after replying. Returning a negative
 * code without replying makes the kernel render the error envelope from the request's error
 * slot (or a generic message for the code). */
typedef int (*pn_handler_fn)(pn_req_t *req);

/* Route flags. Zero means "authenticated user with `perm`, JSON body if any". */
enum {
    /* No authentication at all (health checks, public share links). `perm` must be NULL. */
    PN_ROUTE_PUBLIC = 1u << 0,
    /* Only a worker service token is accepted; user tokens and API keys are refused. */
    PN_ROUTE_SERVICE = 1u << 1,
    /* The body is not parsed as JSON: the handler reads it with pn_req_body. Without this
     * flag a body must be application/json, is parsed and validated before the handler. */
    PN_ROUTE_RAW_BODY = 1u << 2,
    /* Hidden from the OpenAPI document (internal routes). */
    PN_ROUTE_UNDOCUMENTED = 1u << 3,
};

/*
 * One route. Plugins declare a static const array ending with PN_ROUTE_END and pass it to
 * route_add. Fields are append-only; zero means the old behaviour.
 */
typedef struct pn_route {
    /* One method. HEAD is answered automatically for GET routes; OPTIONS and CORS by the kernel. */
    pn_method_t method;
    /* Path pattern: literal segments and ":name" parameters, e.g. "/api/v1/files/:id".
     * A last segment "*name" matches the rest of the path. Since ABI 1. */
    const char *path;
    /* Permission required, e.g. "files.files.read"; NULL only with PN_ROUTE_PUBLIC or
     * PN_ROUTE_SERVICE. The kernel checks it before the handler runs. */
    const char *perm;
    /* The handler. */
    pn_handler_fn fn;
    /* One-line summary for the OpenAPI document. Required. */
    const char *summary;
    /* Largest request body in bytes; 0 means the server default (http.max_body). Bodies over
     * the limit get 413 before they are read. */
    size_t max_body;
    /* JSON Schema (a subset of draft 2020-12, as JSON text) the request body must satisfy, or
     * NULL. Checked before the handler; each problem becomes one `details` entry of a 422.
     * Supported keywords: type, properties, required, additionalProperties, items, enum, const,
     * minLength, maxLength, pattern (POSIX ERE), format (uuid, email, date-time, uri), minimum,
     * maximum, minItems, maxItems, nullable types via a type array, description. */
    const char *req_schema;
    /* JSON Schema of the `data` member of a successful reply, for the OpenAPI document. */
    const char *resp_schema;
    /* PN_ROUTE_* flags. */
    uint32_t flags;
} pn_route_t;

#define PN_ROUTE_END                                                                               \
    {                                                                                              \
        0, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0                                                \
    }

/* One permission a plugin introduces. Names are "<ns>.<resource>.<verb>". */
typedef struct pn_perm {
    const char *name;        /* e.g. "files.files.read" */
    const char *description; /* one line for the roles UI */
    const char *category;    /* grouping in the roles UI, e.g. "Files" */
} pn_perm_t;

#define PN_PERM_END                                                                                \
    {                                                                                              \
        NULL, NULL, NULL                                                                           \
    }

typedef enum pn_cfg_type {
    PN_CFG_INT = 1,    /* 64-bit integer; min and max apply */
    PN_CFG_BOOL = 2,   /* true/false/yes/no/on/off/1/0 */
    PN_CFG_STRING = 3, /* any string; max is the longest length when non-zero */
    PN_CFG_DOUBLE = 4, /* floating point; min and max apply */
} pn_cfg_type_t;

/*
 * One configuration key of a plugin, read from plugins.<name>.<key> in the YAML file and
 * overridden by the environment variable POWERNODE_PLUGINS_<NAME>_<KEY> (upper case). Unknown keys
 * under the plugin's section and out-of-range values stop start-up with the file, line and key
 * named.
 */
typedef struct pn_config_key {
    const char *key; /* [a-z][a-z0-9_]* */
    pn_cfg_type_t type;
    const char *def;  /* default, written as it would be in YAML; NULL means required */
    double min, max;  /* inclusive range; both 0 means unbounded */
    const char *help; /* one line for the generated docs */
} pn_config_key_t;

#define PN_CONFIG_END                                                                              \
    {                                                                                              \
        NULL, 0, NULL, 0, 0, NULL                                                                  \
    }

/* A function the kernel calls when the request ends (after the reply is handed over). */
typedef void (*pn_defer_fn)(void *arg);

/* Streaming replies (pn_host_t.reply_stream): the producer sends the body through write. */
typedef int (*pn_stream_write_fn)(pn_req_t *sreq, const void *data, size_t len);
typedef int (*pn_stream_fn)(pn_req_t *sreq, void *ud, pn_stream_write_fn write);

typedef struct pn_host {
    /* PN_PLUGIN_ABI of the server. */
    uint32_t abi;
    /* sizeof(pn_host_t) in the server: which members exist (PN_HOST_HAS). */
    uint32_t size;

    /* ---- ABI 1: registration, init only ---- */

    /* Add routes from an array ending with PN_ROUTE_END; elem_size is sizeof routes[0]. */
    int (*route_add)(pn_plugin_ctx_t *ctx, const pn_route_t *routes, size_t elem_size);
    /* Add permissions to the registry (array ending with PN_PERM_END). Names are
     * "<plugin>.<resource>.<verb>" or, for cross-account administration, "admin.<plugin>.<verb>";
     * anything else is refused with a message naming the rule. */
    int (*perm_add)(pn_plugin_ctx_t *ctx, const pn_perm_t *perms, size_t elem_size);
    /* Register a folder of migrations NNNN_<what>.sql, applied in name order after core and
     * after the plugins this one depends on. A relative dir is resolved against the plugin's
     * data folder (<datadir>/powernode/plugins/<name>/). */
    int (*sql_dir_add)(pn_plugin_ctx_t *ctx, const char *dir);
    /* Declare config keys and validate plugins.<name> against them. */
    int (*config_declare)(pn_plugin_ctx_t *ctx, const pn_config_key_t *keys, size_t elem_size);
    /* Register a named service (a const vtable the caller keeps alive until fini) at a
     * version; another plugin finds it with service_get. Names are unique. */
    int (*service_add)(pn_plugin_ctx_t *ctx, const char *name, uint32_t version, const void *vt);

    /* ---- ABI 1: any thread ---- */

    /* Log a line tagged with the plugin's name and, on a handler thread, the request id.
     * Never log secrets or request bodies. */
    void (*log)(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, ...) PN_PRINTF(3, 4);
    void (*vlog)(pn_plugin_ctx_t *ctx, pn_log_level_t level, const char *fmt, va_list ap)
        PN_PRINTF(3, 0);
    /* The vtable registered under `name` at version >= min_version, or NULL. */
    const void *(*service_get)(pn_plugin_ctx_t *ctx, const char *name, uint32_t min_version);
    /* Whether the extension `name` is loaded and initialised: the feature gate. */
    bool (*extension_active)(pn_plugin_ctx_t *ctx, const char *name);
    /* Declared config values (after config_declare). The string lives until fini. */
    int64_t (*config_int)(pn_plugin_ctx_t *ctx, const char *key);
    bool (*config_bool)(pn_plugin_ctx_t *ctx, const char *key);
    double (*config_double)(pn_plugin_ctx_t *ctx, const char *key);
    const char *(*config_string)(pn_plugin_ctx_t *ctx, const char *key);
    /* Write a new UUIDv7 (time ordered, monotonic within this process) as 36 chars + NUL. */
    void (*uuid_v7)(char out[37]);

    /* ---- ABI 1: request, on the handler thread that owns it ---- */

    pn_method_t (*req_method)(pn_req_t *req);
    /* The decoded path, without the query string. */
    const char *(*req_path)(pn_req_t *req);
    /* Path parameter by name (":id" -> "id"), percent-decoded; NULL if the route has none. */
    const char *(*req_param)(pn_req_t *req, const char *name);
    /* First query-string value by name, decoded; NULL if absent. */
    const char *(*req_query)(pn_req_t *req, const char *name);
    /* Request header by case-insensitive name; NULL if absent. */
    const char *(*req_header)(pn_req_t *req, const char *name);
    /* The raw body and its length; the body is NUL-terminated for convenience. */
    const void *(*req_body)(pn_req_t *req, size_t *len);
    /* The parsed JSON body (borrowed; lives with the request), or NULL when there is none. */
    json_t *(*req_json)(pn_req_t *req);
    /* The request id (from a sane X-Request-Id or generated), echoed in the reply. */
    const char *(*req_id)(pn_req_t *req);
    /* The TCP peer's address and port as text ("127.0.0.1:50312", "[::1]:50312"); behind a
     * reverse proxy that is the proxy: see req_client_ip. */
    const char *(*req_peer)(pn_req_t *req);
    /* The authenticated principal: user id, account id (NULL for service tokens), and
     * whether the principal holds a permission. */
    const char *(*req_user_id)(pn_req_t *req);
    const char *(*req_account_id)(pn_req_t *req);
    bool (*req_can)(pn_req_t *req, const char *perm);

    /* Arena memory: freed in bulk when the request ends. Never free it yourself. NULL only
     * when memory is exhausted. */
    void *(*req_alloc)(pn_req_t *req, size_t n);
    char *(*req_strdup)(pn_req_t *req, const char *s);
    char *(*req_vprintf)(pn_req_t *req, const char *fmt, va_list ap)PN_PRINTF(2, 0);
    /* Run fn(arg) when the request ends, in reverse order of registration. */
    int (*req_defer)(pn_req_t *req, pn_defer_fn fn, void *arg);
    /* json_decref(j) when the request ends; returns j. */
    json_t *(*req_keep_json)(pn_req_t *req, json_t *j);

    /* Reply with {"success":true,"data":data[,"meta":meta]} and the given status. Steals both
     * references (either may be NULL). Returns PN_OK. */
    int (*reply_json)(pn_req_t *req, int status, json_t *data, json_t *meta);
    /* Reply with raw bytes (copied) and a content type. */
    int (*reply_raw)(pn_req_t *req, int status, const char *content_type, const void *body,
                     size_t len);
    /* Add a response header to the reply being built (before reply_*). */
    int (*reply_header)(pn_req_t *req, const char *name, const char *value);
    /* Set the request's error (code + one sentence) and return the code. The kernel renders
     * {"success":false,"error":...,"details":[...]} when the handler returns it. */
    int (*vfail)(pn_req_t *req, int code, const char *fmt, va_list ap) PN_PRINTF(3, 0);
    /* Add one {"field","message"} entry to the error details. */
    void (*vfail_field)(pn_req_t *req, const char *field, const char *fmt, va_list ap)
        PN_PRINTF(3, 0);

    /* PostgreSQL. Parameters are text ($1..$n, NULL pointer = SQL NULL); never build SQL from
     * input. The request takes a pooled connection on first use and returns it when the
     * request ends; an open transaction is rolled back then. Errors are set on the request:
     * unique or foreign-key violations give PN_E_CONFLICT, a lost database PN_E_UNAVAILABLE.
     * The result is owned by the request arena; rows may be NULL when not wanted. */
    int (*db_query)(pn_req_t *req, const char *sql, int nparams, const char *const *params,
                    pn_rows_t **rows);
    int (*db_begin)(pn_req_t *req);
    int (*db_commit)(pn_req_t *req);
    int (*db_rollback)(pn_req_t *req);
    int (*rows_count)(const pn_rows_t *rows);
    int (*rows_columns)(const pn_rows_t *rows);
    /* Column index by name, or -1. */
    int (*rows_column)(const pn_rows_t *rows, const char *name);
    /* Text value, or NULL for SQL NULL or out of range. Lives with the request. */
    const char *(*rows_value)(const pn_rows_t *rows, int row, int col);
    /* The rows as a JSON array of objects, typed by column (numbers, booleans, jsonb
     * parsed, NULL as null). New reference. */
    json_t *(*rows_json)(const pn_rows_t *rows);

    /* Redis (the cache database). argv entries are binary-safe with argvlen (NULL argvlen
     * means strlen). The reply becomes JSON: strings, integers, arrays, null; an error reply
     * is PN_E_INTERNAL. The reply is owned by the request. A lost Redis is PN_E_UNAVAILABLE. */
    int (*redis_command)(pn_req_t *req, int argc, const char *const *argv, const size_t *argvlen,
                         json_t **reply);
    /* Publish an event on a channel to subscribers of the caller's account (live stream).
     * Steals data. */
    int (*event_publish)(pn_req_t *req, const char *channel, const char *type, json_t *data);
    /* Enqueue a job for the worker in the Sidekiq wire format. Steals args (a JSON array).
     * at = 0 runs now, otherwise the Unix time to run at. jid_out (25 bytes) may be NULL. */
    int (*job_enqueue)(pn_req_t *req, const char *job_class, const char *queue, json_t *args,
                       double at, char jid_out[25]);

    /* ---- ABI 1: append below this line only ---- */

    /* ---- ABI 1 (appended during development) ---- */

    /* Reply with `length` bytes of the open file fd starting at `offset`; the kernel sends them
     * without copying (sendfile where it can) and closes fd in every case, also when this
     * fails. status is 200 or 206 (add Content-Range yourself), content_type may be NULL. The
     * range must lie within the file (checked with fstat): PN_E_INTERNAL otherwise. HEAD
     * requests get the headers and no body. Check PN_HOST_HAS(host, reply_fd) first. */
    int (*reply_fd)(pn_req_t *req, int status, const char *content_type, int fd, uint64_t offset,
                    uint64_t length);
    /* As redis_command, on the job queue database (Redis DB 1 by default): for plugins that
     * show or manage queues (the server reads and edits queues; it never runs jobs). Check
     * PN_HOST_HAS(host, queue_command) first. */
    int (*queue_command)(pn_req_t *req, int argc, const char *const *argv, const size_t *argvlen,
                         json_t **reply);
    /* As event_publish, for a named account: service routes (the worker reporting a finished
     * job) have no account of their own. account_id must come from the server's own rows,
     * never from input. Steals data. Check PN_HOST_HAS(host, event_publish_account) first. */
    int (*event_publish_account)(pn_req_t *req, const char *account_id, const char *channel,
                                 const char *type, json_t *data);

    /* ---- ABI 1 (appended during development): streaming replies ---- */

    /* Reply with a body produced after the handler returns, in bounded memory and at the
     * client's pace (for bodies too large to hold, e.g. a remote storage object). Fields:
     * - status: 200 or 206 (add Content-Range yourself); content_type may be NULL. Other
     *   headers are added with reply_header before this call.
     * - produce(sreq, ud, write): runs once, on a kernel thread, after the handler returned.
     *   sreq is a request of its own: the same principal (user and account ids; req_can is
     *   always false), plugin, route and request id; its own arena and database connection,
     *   released when produce returns; no path parameters, query, headers or body; replies
     *   and vfail on it go nowhere but the log. produce's non-PN_OK return is logged.
     * - ud, ud_size: ud_size bytes (at most 64 KiB) copied into sreq's arena and passed to
     *   produce. The handler's request may end before produce does, so ud must hold no
     *   pointer into it.
     * - write(sreq, data, len): queue body bytes. Blocks while the client has not taken the
     *   earlier ones (at most 1 MiB is held for a client); PN_OK, or PN_E_UNAVAILABLE once the
     *   client is gone or took nothing for 30 seconds: produce should then return.
     * Framing is chunked (close-delimited for HTTP/1.0) and the connection closes after the
     * body, so a producer that fails after the first bytes cuts the body short and the client
     * sees an incomplete transfer, never a complete-looking one. HEAD requests get the head
     * and produce never runs. PN_E_UNAVAILABLE (nothing sent) when 64 streams already run.
     * Check PN_HOST_HAS(host, reply_stream) first. */
    int (*reply_stream)(pn_req_t *req, int status, const char *content_type, pn_stream_fn produce,
                        const void *ud, size_t ud_size);

    /* ---- ABI 1 (appended during development): the client behind proxies ---- */

    /* The client's address without port ("203.0.113.5", "::1"), for per-client limits and
     * records: the TCP peer, or, when that peer is one of the server's http.trusted_proxies,
     * the client X-Forwarded-For names (read from the right, skipping trusted hops). "-" when
     * the peer is not an address. Valid until the request ends. req_peer stays the raw TCP
     * peer ("ip:port"). Check PN_HOST_HAS(host, req_client_ip) first. */
    const char *(*req_client_ip)(pn_req_t *req);
} pn_host_t;

/* Whether the host provides member m (for members appended after the plugin's ABI). */
#define PN_HOST_HAS(h, m) ((h)->size >= offsetof(pn_host_t, m) + sizeof((h)->m))

/* fn(ctx, array, sizeof array[0]) in one line. */
#define PN_ADD(fn, ctx, arr) (fn)((ctx), (arr), sizeof((arr)[0]))

#endif /* POWERNODE_HOST_H */
