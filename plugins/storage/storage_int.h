/*
 * The storage plugin's own parts that talk to the host: its settings (read-only after init),
 * the file_storages rows, the service vtable and the routes.
 */
#ifndef STORAGE_INT_H
#define STORAGE_INT_H

#include <powernode/plugin.h>
#include <powernode/storage.h>

#include "st.h"
#include "storage_conf.h"

#define STORAGE_MAX_ROOTS 8

typedef struct storage_settings {
    st_master_t master;
    char local_root[1024];               /* absolute; default storages go below it */
    char roots[STORAGE_MAX_ROOTS][1024]; /* where a local storage's root may lie */
    int nroots;
    st_opts_t opts;
} storage_settings_t;

extern storage_settings_t storage_settings;

/* One file_storages row of a request. Strings and JSON live with the request. */
typedef struct storage_row {
    const char *id;
    const char *account_id;
    const char *name;
    const char *provider_type;
    json_t *row;    /* every column, as rows_json made it (kept by the request) */
    json_t *pub;    /* configuration without the sealed credentials (borrowed from row) */
    json_t *sealed; /* the sealed credentials or NULL (borrowed from row) */
    bool is_default;
    long long used_bytes;
} storage_row_t;

#define ROW_COLUMNS                                                                                \
    "id, account_id, name, provider_type, configuration, is_default, quota_bytes, used_bytes, "    \
    "files_count, status, health_status, health_details, last_health_check_at, created_at, "       \
    "updated_at"

bool storage_is_uuid(const char *s);

/* A row from one element of rows_json(SELECT ROW_COLUMNS ...), which must outlive it. */
int storage_row_from_json(pn_req_t *req, json_t *obj, storage_row_t **out);

/* The row `id` of the caller's account (any account for a caller without one: public and
 * service routes, whose server code took the id from its own rows), or the account's default
 * when id is NULL, made on first use as a local storage. PN_E_NOTFOUND otherwise. */
int storage_row_load(pn_req_t *req, const char *id, storage_row_t **out);
/* The row `id` of `account` (NULL: any account), PN_E_NOTFOUND otherwise. */
int storage_row_load_in(pn_req_t *req, const char *account, const char *id, storage_row_t **out);
/* Create the account's default local storage when it has no default. */
int storage_default_ensure(pn_req_t *req);

/* The additional data that binds sealed credentials to their row. */
char *storage_aad(pn_req_t *req, const char *id, const char *account_id);

/* Unseal the credentials of a row (NULL when it has none): a new reference, freed with the
 * request. */
int storage_row_secrets(pn_req_t *req, const storage_row_t *row, json_t **secret, st_err_t *err);

/* A backend for the row, freed when the request ends. */
int storage_backend_open(pn_req_t *req, const storage_row_t *row, st_backend_t **out,
                         st_err_t *err);

/* Whether a local root is <R>/<account> or lies below it, for R the local_root or one of the
 * local_allowed_roots: one account's storage never reaches into another's folder. */
bool storage_root_allowed(const char *root, const char *account_id);

/* Reply helper: set the request's error from an st_err_t (keeping a callback's own). */
int storage_fail(pn_req_t *req, const char *op, const st_err_t *e);

extern const pn_storage_vt_t storage_vt;
extern const pn_route_t storage_routes[];
extern const pn_perm_t storage_perms[];

#endif /* STORAGE_INT_H */
