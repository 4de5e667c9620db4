/*
 * Request helpers shared by the identity routes: who is calling and for which account, the
 * pagination query, the registry and "never grant what you do not hold", and the
 * administrators' lock.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity_int.h"

#include "../auth/auth.h"

int
pnk_identity_caller(pn_req_t *req, const char **account_id, const char **user_id)
{
    const pnk_principal_t *p = &req->principal;

    if ((p->kind != PNK_PRINCIPAL_USER && p->kind != PNK_PRINCIPAL_APIKEY) || !p->account_id ||
        !p->user_id)
        return pnk_fail(req, PN_E_UNAUTH, "a user or API key is required");
    if (account_id)
        *account_id = p->account_id;
    if (user_id)
        *user_id = p->user_id;
    return PN_OK;
}

int
pnk_identity_list_account(pn_req_t *req, const char *admin_perm, const char **account_id)
{
    int rc = pnk_identity_caller(req, account_id, NULL);
    const char *want = pnk_req_query(req, "account_id");

    if (rc != PN_OK || !want)
        return rc;
    if (!pnk_identity_uuid_ok(want)) {
        pnk_fail_field(req, "account_id", "must be a uuid");
        return pnk_fail(req, PN_E_INVALID, "invalid query parameter");
    }
    if (strcasecmp(want, *account_id) == 0)
        return PN_OK;
    if (!pnk_req_can(req, admin_perm))
        return pnk_fail(req, PN_E_FORBIDDEN, "permission %s is required to read another account",
                        admin_perm);
    *account_id = want;
    return PN_OK;
}

int
pnk_identity_page_from_query(pn_req_t *req, pnk_identity_page_t *pg)
{
    const char *field = NULL;

    if (pnk_identity_page_parse(pnk_req_query(req, "page"), pnk_req_query(req, "per_page"), pg,
                                &field) == PN_OK)
        return PN_OK;
    if (strcmp(field, "page") == 0)
        pnk_fail_field(req, field, "must be an integer from 1 to %d", PNK_IDENTITY_PAGE_MAX);
    else
        pnk_fail_field(req, field, "must be an integer from 1 to %d", PNK_IDENTITY_PER_PAGE_MAX);
    return pnk_fail(req, PN_E_INVALID, "invalid query parameter");
}

static int
cmp_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

int
pnk_identity_registered(pn_req_t *req, const char *name, bool *yes)
{
    size_t n = 0;
    const char *const *names = pnk_auth_registered_perms(&n);

    if (n > 0) {
        *yes = bsearch(name, names, n, sizeof names[0], cmp_name) != NULL;
        return PN_OK;
    }
    /* No sync in this process (tools, tests): the stored registry decides. */
    pn_rows_t *rows = NULL;
    int rc = pnk_req_db_query(req, "SELECT 1 FROM permissions WHERE name = $1", 1, &name, &rows);
    if (rc == PN_OK)
        *yes = pnk_rows_count(rows) == 1;
    return rc;
}

static int
cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* A sorted copy of a JSON array of strings without duplicates (new reference). */
static json_t *
sorted_unique(const json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t **v =
        calloc(n ? n : 1, sizeof *v); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    json_t *out = json_array();

    if (!v || !out) {
        free(v);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
    qsort(v, n, sizeof *v, cmp_json_str);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(json_string_value(v[i]), json_string_value(v[i - 1])) != 0)
            json_array_append(out, v[i]);
    free(v);
    return out;
}

int
pnk_identity_check_grant(pn_req_t *req, const json_t *perms, const char *field, json_t **unique)
{
    size_t i;
    json_t *v;
    int bad = 0, rc;

    *unique = NULL;
    if (!json_is_array(perms)) {
        pnk_fail_field(req, field, "must be an array of permission names");
        return pnk_fail(req, PN_E_INVALID, "request body failed validation");
    }
    json_array_foreach(perms, i, v)
    {
        bool known = false;
        const char *name = json_string_value(v);
        if (name && pnk_identity_perm_name_ok(name) &&
            (rc = pnk_identity_registered(req, name, &known)) != PN_OK)
            return rc;
        if (!known) {
            pnk_fail_field(req, pnk_req_printf(req, "%s/%zu", field, i),
                           "is not a registered permission");
            bad++;
        }
    }
    if (bad)
        return pnk_fail(req, PN_E_INVALID, "unknown permission");
    json_array_foreach(perms, i, v)
    {
        if (!pnk_req_can(req, json_string_value(v)))
            return pnk_fail(req, PN_E_FORBIDDEN, "you cannot grant %s: you do not hold it",
                            json_string_value(v));
    }
    if (!(*unique = sorted_unique(perms)))
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    return PN_OK;
}

bool
pnk_identity_caller_covers(pn_req_t *req, bool all_perms, const json_t *perms)
{
    size_t i;
    json_t *v;

    if (all_perms)
        return req->principal.all_perms;
    json_array_foreach(perms, i, v)
    {
        if (!pnk_req_can(req, json_string_value(v)))
            return false;
    }
    return true;
}

json_t *
pnk_identity_objects(const pn_rows_t *rows, int col)
{
    json_t *out = json_array();
    int n = pnk_rows_count(rows);

    for (int i = 0; out && i < n; i++) {
        const char *text = pnk_rows_value(rows, i, col);
        json_t *o = text ? json_loads(text, JSON_DECODE_ANY, NULL) : json_null();
        if (!o || json_array_append_new(out, o) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *
pnk_identity_object(const pn_rows_t *rows, int col)
{
    const char *text = pnk_rows_count(rows) > 0 ? pnk_rows_value(rows, 0, col) : NULL;

    return text ? json_loads(text, 0, NULL) : NULL;
}

const char *
pnk_identity_value(const pn_rows_t *rows, int col)
{
    return pnk_rows_count(rows) > 0 ? pnk_rows_value(rows, 0, col) : NULL;
}

int
pnk_identity_lock_admins(pn_req_t *req, const char *account_id)
{
    /* First key: this lock's kind (auth's first-admin lock uses another); second: the account. */
    return pnk_req_db_query(req, "SELECT pg_advisory_xact_lock(73681906, hashtext($1::text))", 1,
                            &account_id, NULL);
}

int
pnk_identity_count_admins(pn_req_t *req, const char *account_id, long *n)
{
    pn_rows_t *rows = NULL;
    int rc = pnk_req_db_query(req,
                              "SELECT count(DISTINCT u.id) FROM users u"
                              "  JOIN user_roles ur ON ur.user_id = u.id"
                              "  JOIN roles r ON r.id = ur.role_id AND r.all_permissions"
                              "   AND (r.account_id IS NULL OR r.account_id = u.account_id)"
                              " WHERE u.account_id = $1 AND u.status = 'active'",
                              1, &account_id, &rows);
    const char *v = rc == PN_OK ? pnk_identity_value(rows, 0) : NULL;
    if (rc == PN_OK)
        *n = v ? strtol(v, NULL, 10) : 0;
    return rc;
}

int
pnk_identity_abort(pn_req_t *req, int rc)
{
    /* Keep the first error: the rollback's own result must not overwrite it. */
    int code = req->err_code;
    char *msg = req->err_msg;
    if (req->db && pnk_db_in_tx(req->db))
        (void)pnk_req_db_rollback(req);
    req->err_code = code;
    req->err_msg = msg;
    return rc;
}
