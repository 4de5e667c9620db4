/* Shared between the files of the identity area only. */
#ifndef PNK_IDENTITY_INT_H
#define PNK_IDENTITY_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../app/request.h"
#include "identity_util.h"

/* ---- request helpers (common.c) ---- */

/* The caller's account, or a 401 when the principal has none (services never get here). */
int pnk_identity_caller(pn_req_t *req, const char **account_id, const char **user_id);

/* The account a list reads: the caller's, or ?account_id= when the caller holds admin_perm
 * (admin.* reaches across accounts; see README). 403 otherwise, 422 when not a uuid. */
int pnk_identity_list_account(pn_req_t *req, const char *admin_perm, const char **account_id);

/* page/per_page from the query, failing the request with a field detail when wrong. */
int pnk_identity_page_from_query(pn_req_t *req, pnk_identity_page_t *pg);

/* Whether name is a registered permission (the set of the last sync, or the stored registry
 * when this process never synced). Returns PN_OK and sets *yes, or a database code. */
int pnk_identity_registered(pn_req_t *req, const char *name, bool *yes);

/*
 * Check a requested permission list (JSON array of strings) for a grant: every entry must be
 * registered (else 422 with one detail per unknown entry, field "<field>/<i>") and held by
 * the caller (else 403 naming the first one). On success *unique gets the sorted, deduplicated
 * list as a JSON array (new reference).
 */
int pnk_identity_check_grant(pn_req_t *req, const json_t *perms, const char *field,
                             json_t **unique);

/*
 * Whether the caller holds everything a holder of (all_perms, perms) holds: a role's or a
 * user's effective permissions. perms is a JSON array of strings (may be NULL).
 */
bool pnk_identity_caller_covers(pn_req_t *req, bool all_perms, const json_t *perms);

/* Column `col` of each row parsed as a JSON object (the row builders in SQL use
 * json_build_object so timestamps come out as ISO 8601). New reference; NULL on OOM. */
json_t *pnk_identity_objects(const pn_rows_t *rows, int col);
/* Row 0's object (new reference), or NULL when there is none. */
json_t *pnk_identity_object(const pn_rows_t *rows, int col);

/* One-shot: a text value of the first row, or NULL. */
const char *pnk_identity_value(const pn_rows_t *rows, int col);

/* Serialise concurrent changes to one account's administrators (transaction-scoped lock). */
int pnk_identity_lock_admins(pn_req_t *req, const char *account_id);
/* Active users of the account holding a role with all_permissions. */
int pnk_identity_count_admins(pn_req_t *req, const char *account_id, long *n);

/* Roll back (ignoring the result) and return rc: the tail of every failed transaction. */
int pnk_identity_abort(pn_req_t *req, int rc);

/* ---- handlers ---- */

int pnk_identity_users_list(pn_req_t *req);
int pnk_identity_users_create(pn_req_t *req);
int pnk_identity_users_get(pn_req_t *req);
int pnk_identity_users_update(pn_req_t *req);
int pnk_identity_users_delete(pn_req_t *req);

int pnk_identity_roles_list(pn_req_t *req);
int pnk_identity_roles_create(pn_req_t *req);
int pnk_identity_roles_get(pn_req_t *req);
int pnk_identity_roles_update(pn_req_t *req);
int pnk_identity_roles_delete(pn_req_t *req);
int pnk_identity_roles_set_perms(pn_req_t *req);
int pnk_identity_permissions_list(pn_req_t *req);

int pnk_identity_apikeys_list(pn_req_t *req);
int pnk_identity_apikeys_create(pn_req_t *req);
int pnk_identity_apikeys_revoke(pn_req_t *req);

int pnk_identity_audit_list(pn_req_t *req);

#endif
