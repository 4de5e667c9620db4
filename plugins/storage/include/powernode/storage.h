/*
 * The storage service: the one interface every storage provider (local disk, S3-compatible,
 * Azure Blob, Google Cloud Storage) implements, registered by the storage plugin as the named
 * service PN_STORAGE_SERVICE and used by any plugin that keeps bytes (files, ...):
 *
 *   const pn_storage_vt_t *st = host->service_get(ctx, PN_STORAGE_SERVICE, 1);
 *
 * Storage keys are always made by the caller's server code, never taken from user input; a
 * provider still refuses keys that could leave its root or prefix ("..", NUL, leading '/',
 * backslash, control characters) with PN_E_INVALID.
 * All functions run on the request's handler thread; handles and strings live in the request
 * arena. Growth is append-only (check `size`), like the host table.
 */
#ifndef POWERNODE_STORAGE_H
#define POWERNODE_STORAGE_H

#include <powernode/host.h>

#define PN_STORAGE_SERVICE "storage.providers"
#define PN_STORAGE_SERVICE_VERSION 1

/* One configured storage (a file_storages row of the caller's account), opened for a request. */
typedef struct pn_storage pn_storage_t;

/* Supplies the bytes of a put: fill up to cap bytes into buf, set *got (0 = end of data).
 * Return PN_OK, or a negative code to abort the put (the partial object is removed). */
typedef int (*pn_storage_source_fn)(void *ud, void *buf, size_t cap, size_t *got);
/* Receives the bytes of a get in order. Return PN_OK, or a negative code to stop. */
typedef int (*pn_storage_sink_fn)(void *ud, const void *buf, size_t len);

typedef struct pn_storage_info {
    uint64_t size;
    char etag[130];         /* provider's entity tag, quotes removed; may be empty */
    char content_type[128]; /* as stored; may be empty */
} pn_storage_info_t;

typedef struct pn_storage_vt {
    uint32_t size; /* sizeof(pn_storage_vt_t) of the provider side */

    /* Open storage `storage_id` of the caller's account (NULL: the account's default).
     * PN_E_NOTFOUND when it does not exist in this account. */
    int (*open)(pn_req_t *req, const char *storage_id, pn_storage_t **out);
    /* The file_storages id of an open storage (for quota accounting). */
    const char *(*storage_id)(const pn_storage_t *s);
    /* The provider type: "local", "s3", "azure", "gcs". */
    const char *(*provider)(const pn_storage_t *s);

    /* Store an object from a stream, atomically: readers see the old object or the whole new
     * one, never a part (temporary name + rename, or a provider-side commit). size_hint is
     * the expected length or 0 when unknown. */
    int (*put)(pn_req_t *req, pn_storage_t *s, const char *key, pn_storage_source_fn src, void *ud,
               uint64_t size_hint, const char *content_type);
    /* Read bytes [offset, offset+length) (length 0 = to the end) into a sink, streaming in
     * bounded memory. PN_E_NOTFOUND when absent, PN_E_RANGE when offset is past the end. */
    int (*get)(pn_req_t *req, pn_storage_t *s, const char *key, uint64_t offset, uint64_t length,
               pn_storage_sink_fn sink, void *ud);
    /* A read-only file descriptor for the object when the provider is local (for zero-copy
     * replies); PN_E_NOTFOUND when absent, PN_E_UNAVAILABLE when the provider is remote. The
     * caller closes it (or hands it to a reply that does). */
    int (*open_fd)(pn_req_t *req, pn_storage_t *s, const char *key, int *fd, uint64_t *size);
    int (*remove)(pn_req_t *req, pn_storage_t *s, const char *key);
    /* PN_OK with info filled when present, PN_E_NOTFOUND when absent. info may be NULL. */
    int (*stat)(pn_req_t *req, pn_storage_t *s, const char *key, pn_storage_info_t *info);
    /* A presigned URL letting anyone GET or PUT the object until ttl_s seconds from now;
     * PN_E_UNAVAILABLE when the provider has none (local). *url is arena memory. */
    int (*presign)(pn_req_t *req, pn_storage_t *s, const char *key, pn_method_t method, int ttl_s,
                   char **url);
    /* Check the provider answers with these credentials. PN_OK or a code with a message set
     * on the request (never the credentials). */
    int (*health)(pn_req_t *req, pn_storage_t *s);

    /* ---- appended: in-place staging of resumable uploads (check PN_STORAGE_HAS) ---- */

    /* Write len bytes at offset into the staging object `key` (created when absent, never
     * truncated), durable on return when sync. Not atomic: nothing may read the key as an
     * object; publish it. PN_E_UNAVAILABLE when the provider has no such writes (remote ones:
     * stage separate objects and put them together instead). */
    int (*write_at)(pn_req_t *req, pn_storage_t *s, const char *key, uint64_t offset,
                    const void *buf, size_t len, bool sync);
    /* Make staging object `from` readable as `to`, atomically (readers see the old object or
     * the whole new one) and durably, without copying; content_type as for put. `from` stays
     * until removed, so a failed commit after this can publish again. PN_E_UNAVAILABLE as for
     * write_at. */
    int (*publish)(pn_req_t *req, pn_storage_t *s, const char *from, const char *to,
                   const char *content_type);
} pn_storage_vt_t;

/* Whether the service provides member m (appended after the caller was built). */
#define PN_STORAGE_HAS(vt, m) ((vt)->size >= offsetof(pn_storage_vt_t, m) + sizeof((vt)->m))

#endif /* POWERNODE_STORAGE_H */
