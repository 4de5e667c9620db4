/*
 * The storage plugin's internal backend API: the providers behind the pn_storage_vt_t service,
 * free of any request or host type so the provider test suite links them directly. Errors are
 * a pn_err_t code plus one sentence in an st_err_t; nothing here logs or holds a credential
 * longer than the backend it was given to.
 */
#ifndef ST_H
#define ST_H

#include <jansson.h>
#include <powernode/storage.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_KEY_MAX 1024
#define ST_COMPONENT_MAX 255

typedef struct st_err {
    int code;
    /* The code came from the caller's own source or sink callback, which has already said
     * why (the service then keeps the request's message instead of writing its own). */
    bool passthrough;
    char msg[256];
} st_err_t;

/* Sets err (when not NULL) and returns code. */
int st_fail(st_err_t *err, int code, const char *fmt, ...) PN_PRINTF(3, 4);
/* For a code returned by a source or sink callback: marks it passthrough; a non-negative
 * code becomes PN_E_INTERNAL. Returns the code. */
int st_fail_cb(st_err_t *err, int rc, const char *what);

/* Options every backend shares; set by the plugin from its config, by tests directly. */
typedef struct st_opts {
    /* Allow endpoints on loopback, private, link-local addresses and plain http:// (emulators,
     * on-premises servers). Off by default: a tenant must not reach the server's own network. */
    bool allow_private;
    /* Size of one multipart part / Azure block, bytes (>= 5 MiB for real S3). */
    size_t part_size;
    /* Seconds allowed to connect; transfers fail when slower than 1 byte/s for io_timeout. */
    long connect_timeout;
    long io_timeout;
} st_opts_t;

void st_opts_default(st_opts_t *o);

typedef struct st_backend st_backend_t;

/* A provider's functions. Every key reaching them has passed st_key_check. */
typedef struct st_ops {
    const char *type;
    int (*put)(st_backend_t *b, const char *key, pn_storage_source_fn src, void *ud,
               uint64_t size_hint, const char *content_type, st_err_t *err);
    int (*get)(st_backend_t *b, const char *key, uint64_t offset, uint64_t length,
               pn_storage_sink_fn sink, void *ud, st_err_t *err);
    int (*open_fd)(st_backend_t *b, const char *key, int *fd, uint64_t *size, st_err_t *err);
    int (*remove)(st_backend_t *b, const char *key, st_err_t *err);
    int (*stat)(st_backend_t *b, const char *key, pn_storage_info_t *info, st_err_t *err);
    int (*presign)(st_backend_t *b, const char *key, pn_method_t method, int ttl_s, char **url,
                   st_err_t *err);
    int (*health)(st_backend_t *b, st_err_t *err);
    void (*free)(st_backend_t *b);
    /* Optional (NULL: PN_E_UNAVAILABLE), local disk only: in-place staging of resumable
     * uploads. write_at writes into `key` at `offset` (created when absent, never truncated),
     * durable on return when `sync`; publish makes staging object `from` readable as `to`
     * atomically and durably, keeping `from` until it is removed. */
    int (*write_at)(st_backend_t *b, const char *key, uint64_t offset, const void *buf, size_t len,
                    bool sync, st_err_t *err);
    int (*publish)(st_backend_t *b, const char *from, const char *to, const char *content_type,
                   st_err_t *err);
} st_ops_t;

struct st_backend {
    const st_ops_t *ops;
    st_opts_t opts;
};

/*
 * A backend of `type` ("local", "s3", "azure", "gcs") from its configuration (the non-secret
 * fields) and credentials (the decrypted secret fields; may be NULL for local). Both are only
 * read during the call. The backend is owned by the caller: st_backend_free.
 */
int st_backend_new(const char *type, const json_t *conf, const json_t *creds, const st_opts_t *opts,
                   st_backend_t **out, st_err_t *err);
void st_backend_free(st_backend_t *b);

/* The operations, with the key checked first. presign's *url is malloc'd (caller frees). */
int st_put(st_backend_t *b, const char *key, pn_storage_source_fn src, void *ud, uint64_t size_hint,
           const char *content_type, st_err_t *err);
int st_get(st_backend_t *b, const char *key, uint64_t offset, uint64_t length,
           pn_storage_sink_fn sink, void *ud, st_err_t *err);
int st_open_fd(st_backend_t *b, const char *key, int *fd, uint64_t *size, st_err_t *err);
int st_remove(st_backend_t *b, const char *key, st_err_t *err);
int st_stat(st_backend_t *b, const char *key, pn_storage_info_t *info, st_err_t *err);
int st_presign(st_backend_t *b, const char *key, pn_method_t method, int ttl_s, char **url,
               st_err_t *err);
int st_health(st_backend_t *b, st_err_t *err);
int st_write_at(st_backend_t *b, const char *key, uint64_t offset, const void *buf, size_t len,
                bool sync, st_err_t *err);
int st_publish(st_backend_t *b, const char *from, const char *to, const char *content_type,
               st_err_t *err);

/*
 * PN_OK when key may name an object: 1..ST_KEY_MAX bytes of '/'-separated components, none
 * empty, ".", "..", longer than ST_COMPONENT_MAX or starting with ".pn-" (reserved for
 * temporary files); no byte below 0x20, no 0x7f, no '\\' and no '%' (keys are never
 * URL-decoded, but a server that decodes twice must not see an escape either).
 */
int st_key_check(const char *key, st_err_t *err);

/* "dir/sub" -> "dir/sub/" in out (n bytes) after checking it like a key; "" stays "". */
int st_prefix_check(const char *prefix, char *out, size_t n, st_err_t *err);

/* Read from a source until buf (cap bytes) is full or the source ends (*eof). */
int st_fill(pn_storage_source_fn src, void *ud, char *buf, size_t cap, size_t *len, bool *eof,
            st_err_t *err);

/* Providers. */
int st_local_new(const json_t *conf, const st_opts_t *opts, st_backend_t **out, st_err_t *err);
int st_s3_new(const char *type, const json_t *conf, const json_t *creds, const st_opts_t *opts,
              st_backend_t **out, st_err_t *err);
int st_azure_new(const json_t *conf, const json_t *creds, const st_opts_t *opts, st_backend_t **out,
                 st_err_t *err);

/* Create the configured container (201, or 409 when it exists, are success). */
int st_azure_create_container(st_backend_t *b, st_err_t *err);

#endif /* ST_H */
