/*
 * The job SDK: what a job plugin for powernode-worker includes, and all it may use. A job
 * plugin is a shared object exporting one function, pn_job_entry, that returns a descriptor
 * listing its job classes. It links nothing of the worker; every service reaches it through
 * the host table (API client, logging, idempotency, counters, working directory). See
 * worker/README.md and worker/examples/hello-job.
 */
#ifndef POWERNODE_JOB_H
#define POWERNODE_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * PN_JOB_ABI is the major number of the contract between the worker and job plugins, separate
 * from the server's PN_PLUGIN_ABI. Bumped on any incompatible change; appending to the structs
 * below (found through their size fields) does not bump it.
 * History: 1 = first version.
 */
#ifndef PN_JOB_ABI
#define PN_JOB_ABI 1
#endif
/* (Defining PN_JOB_ABI before this header is only for testing that the worker refuses a job
 * plugin built for another ABI.) */

#define PN_JOB_ENTRY "pn_job_entry"

#if defined(__GNUC__) || defined(__clang__)
#define PN_JOB_EXPORT __attribute__((visibility("default")))
#define PN_JOB_HIDDEN __attribute__((visibility("hidden")))
#define PN_JOB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PN_JOB_EXPORT
#define PN_JOB_HIDDEN
#define PN_JOB_PRINTF(f, a)
#endif

#define PN_JOB_STR2_(x) #x
#define PN_JOB_STR_(x) PN_JOB_STR2_(x)
#if defined(__LP64__) || defined(_LP64)
#define PN_JOB_DATA_MODEL_ "lp64"
#else
#define PN_JOB_DATA_MODEL_ "ilp32"
#endif
/* Everything besides the ABI number that must match: data model and Jansson's major version
 * (json_t crosses the boundary). Compared part by part; the refusal names the part. */
#define PN_JOB_ABI_TAG                                                                             \
    "pnjob" PN_JOB_STR_(PN_JOB_ABI) ";" PN_JOB_DATA_MODEL_                                         \
                                    ";jansson" PN_JOB_STR_(JANSSON_MAJOR_VERSION)

/* What execute returns. */
typedef enum pn_job_result {
    PN_JOB_OK = 0,        /* done; the job is acknowledged and leaves Redis */
    PN_JOB_ERROR = 1,     /* failed; retried after count^4 + 15 s + jitter, then dead */
    PN_JOB_API_ERROR = 2, /* failed talking to the server; retried after 30, 60, 180 s */
    PN_JOB_DEAD = 3,      /* failed for good (bad input): straight to the dead set */
} pn_job_result_t;

typedef enum pn_job_log_level {
    PN_JOB_LOG_DEBUG = 0,
    PN_JOB_LOG_INFO = 1,
    PN_JOB_LOG_WARN = 2,
    PN_JOB_LOG_ERROR = 3,
} pn_job_log_level_t;

/* One running job: opaque, valid only during execute. */
typedef struct pn_job pn_job_t;

/* retry value meaning "no retries: dead on the first failure". */
#define PN_JOB_NO_RETRY (-1)

/*
 * One job class. Plugins fill an array of these; the worker walks it with the element size
 * the descriptor gives, so fields are append-only and zero always means the default.
 */
typedef struct pn_job_class {
    /* The Sidekiq "class" field: [A-Za-z0-9_:]{1,200}, unique across loaded plugins. */
    const char *name;
    /* Default queue for jobs of this class (what the plugin enqueues to); documentation for
     * the worker, which runs whatever arrives on the queues it serves. NULL = "default". */
    const char *queue;
    /* Retries before the dead set when the payload says "retry": true. 0 = 3 (the default);
     * PN_JOB_NO_RETRY = none. An integer "retry" in the payload wins, as in Sidekiq. */
    int retry;
    /* Wall-clock limit in seconds. 0 = 300. Enforced by killing the child for isolated
     * classes; for in-process classes it bounds API calls and is visible through
     * pn_job_remaining(), since a thread cannot be killed safely. */
    int timeout_s;
    /* Run each attempt in a child process with CPU, memory and wall-clock limits. */
    bool isolated;
    /* Isolated only: CPU seconds (0 = timeout_s) and extra address space in MiB (0 = 1024). */
    int cpu_limit_s;
    int memory_limit_mb;
    /* Argument types, one letter per argument: s string, i integer, n number, b boolean,
     * o object, a array, * anything; a '?' marks where optional arguments start. A job whose
     * args do not match goes to the dead set with the reason. NULL = anything goes. */
    const char *args;
    /* Run one attempt. args is the payload's array (borrowed). Return a pn_job_result_t;
     * before returning an error, say why with pn_job_fail(). */
    int (*execute)(pn_job_t *job, const json_t *args);
    /* ---- ABI 1: append below this line only ---- */
} pn_job_class_t;

/* What an API call gets back. body is NULL when the answer was not JSON; free it. */
typedef struct pn_job_response {
    long status;  /* HTTP status, 0 when no answer arrived */
    json_t *body; /* owned by the caller: json_decref */
} pn_job_response_t;

/*
 * The host table: the worker's services. Check for members added after ABI 1 with
 * PN_JOB_HOST_HAS(host, member). Use the inline helpers below rather than these directly.
 */
typedef struct pn_job_host {
    uint32_t abi;
    uint32_t size;
    void (*log)(pn_job_t *job, pn_job_log_level_t level, const char *fmt, ...) PN_JOB_PRINTF(3, 4);
    const char *(*jid)(pn_job_t *job);
    const char *(*job_class)(pn_job_t *job);
    /* 1 for the first attempt, 2 for the first retry, ... */
    int (*attempt)(pn_job_t *job);
    /* The reason recorded with a failure (error_message in the retry and dead sets). */
    void (*fail)(pn_job_t *job, const char *fmt, ...) PN_JOB_PRINTF(2, 3);
    /* Call the server: method "GET", "POST", ...; path under the server URL ("/api/v1/...");
     * body may be NULL. Signs a service token, reuses connections, retries 408, 429, 500,
     * 502, 503, 504 and connection failures with backoff, honours the backend circuit
     * breaker, and sends an Idempotency-Key on every mutating call (idem_key, or
     * "<jid>:<n>" for the n-th mutating call of this job, stable across attempts).
     * 0 with res filled (any status), or -1 when no usable answer came (res->status says
     * which, 0 = none); the failure is then an API error for the retry policy. */
    int (*api)(pn_job_t *job, const char *method, const char *path, const json_t *body,
               const char *idem_key, pn_job_response_t *res);
    /* Idempotency in Redis, keyed per job class: processed() is 1 when mark_processed() was
     * called for key within ttl_s seconds, 0 when not, -1 when Redis failed or the key is too
     * long (with the class name it must fit in 500 bytes). */
    int (*processed)(pn_job_t *job, const char *key);
    int (*mark_processed)(pn_job_t *job, const char *key, int ttl_s);
    /* Counters and timings, published with the heartbeat (pn:counters). */
    void (*count)(pn_job_t *job, const char *name, long delta);
    void (*timing)(pn_job_t *job, const char *name, double ms);
    /* A private directory for this attempt, created on first use and removed with all its
     * contents when execute returns. NULL on failure. */
    const char *(*workdir)(pn_job_t *job);
    /* A key of this plugin's section (job_plugins.<plugin>.<key>) in the worker config, or
     * NULL. */
    const char *(*config)(pn_job_t *job, const char *key);
    /* Seconds left before the class's timeout; the job should give up when <= 0. */
    double (*remaining)(pn_job_t *job);
    /* True once the worker is shutting down: finish quickly or return PN_JOB_ERROR (the job
     * will be retried). */
    bool (*stopping)(pn_job_t *job);
    /* Circuit breakers for other targets ("ai_provider", "mission", "web_auth", or any name):
     * allow() is false while open (skip the call and fail the attempt); report() records the
     * outcome. "backend" is used by api() itself. */
    bool (*breaker_allow)(pn_job_t *job, const char *target);
    void (*breaker_report)(pn_job_t *job, const char *target, bool ok);
    /* ---- ABI 1: append below this line only ---- */
    /* ABI 1 (appended during development): raw-body transfers, for content that is not JSON.
     * Check with PN_JOB_HOST_HAS (PN_JOB_HAVE_API_FILE says this header declares them). Both
     * go through the same token, retries, backoff and backend breaker as api(), and fill res
     * like it (res->body is the JSON error envelope of a non-2xx answer, else NULL). The local
     * file must be inside this attempt's workdir() (created first): other paths, symbolic
     * links and non-regular files are refused with -1 and status 0.
     * api_download: GET path, a 2xx body streamed into dest_file (created or truncated);
     * over max_bytes (0 = no cap) the transfer stops, the call fails (no retry) and the file
     * is removed, as it is after any failure or non-2xx answer.
     * api_upload: POST path with the file as the raw body, Content-Type content_type (NULL =
     * application/octet-stream) and an Idempotency-Key (idem_key, or "<jid>:<n>" as api()). */
    int (*api_download)(pn_job_t *job, const char *path, const char *dest_file, uint64_t max_bytes,
                        pn_job_response_t *res);
    int (*api_upload)(pn_job_t *job, const char *path, const char *src_file,
                      const char *content_type, const char *idem_key, pn_job_response_t *res);
    /* ABI 1 (appended during development): api_download of the first head_bytes bytes only
     * (HTTP Range: bytes=0-N; head_bytes > 0), for jobs that read a header, not the content.
     * Check with PN_JOB_HOST_HAS (PN_JOB_HAVE_API_HEAD says this header declares it). A 206
     * answer's body lands in dest_file; so do the first head_bytes bytes of a 200 answer from a
     * server that ignores ranges (the rest is not read; the call still succeeds). A content
     * shorter than head_bytes arrives whole; an empty one answers 416 (no file is left). Same
     * rules as api_download otherwise: path checks, retries, the file removed on failure. */
    int (*api_download_head)(pn_job_t *job, const char *path, const char *dest_file,
                             uint64_t head_bytes, pn_job_response_t *res);
    /* ABI 1 (appended during development): the first `cap` bytes of GET path into the caller's
     * buf, for a header parsed in memory: no workdir, no file. The same request, retries and
     * Range handling as api_download_head (a 200 from a server that ignores ranges is cut after
     * cap bytes). *len gets the bytes that arrived: fewer than cap when the content is shorter,
     * 0 on any failure or non-2xx answer (an empty content answers 416). cap must be 1 byte to
     * PN_JOB_READ_HEAD_MAX, else -1 with status 0 and no request. Check with PN_JOB_HOST_HAS
     * (PN_JOB_HAVE_API_READ_HEAD says this header declares it). */
    int (*api_read_head)(pn_job_t *job, const char *path, void *buf, size_t cap, size_t *len,
                         pn_job_response_t *res);
} pn_job_host_t;

/* This header's host table has api_download and api_upload. */
#define PN_JOB_HAVE_API_FILE 1
/* ... and api_download_head. */
#define PN_JOB_HAVE_API_HEAD 1
/* ... and api_read_head, which reads at most this many bytes (16 MiB). */
#define PN_JOB_HAVE_API_READ_HEAD 1
#define PN_JOB_READ_HEAD_MAX ((size_t)16 << 20)

#define PN_JOB_HOST_HAS(h, m) ((h)->size >= offsetof(pn_job_host_t, m) + sizeof((h)->m))

/* The descriptor pn_job_entry returns. Append-only; read up to `size`. */
typedef struct pn_job_plugin {
    uint32_t abi;        /* PN_JOB_ABI at build time; must equal the worker's */
    uint32_t size;       /* sizeof(pn_job_plugin_t) at build time */
    const char *abi_tag; /* PN_JOB_ABI_TAG at build time */
    const char *name;    /* [a-z][a-z0-9_]{0,31}: log tag and config section */
    const char *version; /* the plugin's own version */
    const pn_job_class_t *classes;
    size_t nclasses;
    size_t class_size; /* sizeof(pn_job_class_t) at build time */
    /* Called once when the worker (or an isolated child) starts; 0 or a negative code after
     * logging why with host->log(NULL, ...). May be NULL. */
    int (*init)(const pn_job_host_t *host);
    void (*fini)(void);              /* May be NULL. */
    const pn_job_host_t **host_slot; /* filled by PN_JOB_PLUGIN; leave alone */
    const char *summary;             /* one line, may be NULL */
    /* ---- ABI 1: append below this line only ---- */
} pn_job_plugin_t;

extern PN_JOB_HIDDEN const pn_job_host_t *pn_job_host_;

/*
 * Declare the plugin once, at file scope:
 *   PN_JOB_PLUGIN(.name = "hello", .version = "1.0.0", .classes = classes,
 *                 .nclasses = sizeof classes / sizeof classes[0]);
 */
#define PN_JOB_PLUGIN(...)                                                                         \
    PN_JOB_HIDDEN const pn_job_host_t *pn_job_host_;                                               \
    PN_JOB_EXPORT const pn_job_plugin_t *pn_job_entry(void);                                       \
    PN_JOB_EXPORT const pn_job_plugin_t *pn_job_entry(void)                                        \
    {                                                                                              \
        static const pn_job_plugin_t d = {.abi = PN_JOB_ABI,                                       \
                                          .size = sizeof(pn_job_plugin_t),                         \
                                          .abi_tag = PN_JOB_ABI_TAG,                               \
                                          .class_size = sizeof(pn_job_class_t),                    \
                                          .host_slot = &pn_job_host_,                              \
                                          __VA_ARGS__};                                            \
        return &d;                                                                                 \
    }                                                                                              \
    extern int pn_job_semicolon_

/* Helpers; valid inside execute (and init for pn_job_log with job NULL). */
#define pn_job_log(job, level, ...) pn_job_host_->log((job), (level), __VA_ARGS__)
#define pn_job_fail(job, ...) pn_job_host_->fail((job), __VA_ARGS__)

static inline const char *
pn_job_jid(pn_job_t *job)
{
    return pn_job_host_->jid(job);
}

static inline int
pn_job_attempt(pn_job_t *job)
{
    return pn_job_host_->attempt(job);
}

static inline int
pn_job_api(pn_job_t *job, const char *method, const char *path, const json_t *body,
           const char *idem_key, pn_job_response_t *res)
{
    return pn_job_host_->api(job, method, path, body, idem_key, res);
}

static inline int
pn_job_api_download(pn_job_t *job, const char *path, const char *dest_file, uint64_t max_bytes,
                    pn_job_response_t *res)
{
    return pn_job_host_->api_download(job, path, dest_file, max_bytes, res);
}

static inline int
pn_job_api_download_head(pn_job_t *job, const char *path, const char *dest_file,
                         uint64_t head_bytes, pn_job_response_t *res)
{
    return pn_job_host_->api_download_head(job, path, dest_file, head_bytes, res);
}

static inline int
pn_job_api_read_head(pn_job_t *job, const char *path, void *buf, size_t cap, size_t *len,
                     pn_job_response_t *res)
{
    return pn_job_host_->api_read_head(job, path, buf, cap, len, res);
}

static inline int
pn_job_api_upload(pn_job_t *job, const char *path, const char *src_file, const char *content_type,
                  const char *idem_key, pn_job_response_t *res)
{
    return pn_job_host_->api_upload(job, path, src_file, content_type, idem_key, res);
}

static inline int
pn_job_processed(pn_job_t *job, const char *key)
{
    return pn_job_host_->processed(job, key);
}

static inline int
pn_job_mark_processed(pn_job_t *job, const char *key, int ttl_s)
{
    return pn_job_host_->mark_processed(job, key, ttl_s);
}

static inline void
pn_job_count(pn_job_t *job, const char *name, long delta)
{
    pn_job_host_->count(job, name, delta);
}

static inline const char *
pn_job_workdir(pn_job_t *job)
{
    return pn_job_host_->workdir(job);
}

static inline const char *
pn_job_config(pn_job_t *job, const char *key)
{
    return pn_job_host_->config(job, key);
}

static inline double
pn_job_remaining(pn_job_t *job)
{
    return pn_job_host_->remaining(job);
}

static inline bool
pn_job_stopping(pn_job_t *job)
{
    return pn_job_host_->stopping(job);
}

#endif /* POWERNODE_JOB_H */
