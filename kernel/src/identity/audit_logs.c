/*
 * GET /api/v1/audit_logs: the account's audit trail, newest first, filtered and paged.
 * audit.logs.read shows your own rows; admin.audit_logs.read shows everyone's in the account
 * (and, with ?account_id=, another account's: admin.* reaches across accounts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity_int.h"

/* $1 account, $2 user, $3 action prefix, $4 result, $5 target type, $6 target id, $7 from,
 * $8 to, $9 the row to continue after (keyset); each filter off when NULL. */
#define AUDIT_WHERE                                                                                \
    " WHERE a.account_id = $1::uuid"                                                               \
    "   AND ($2::uuid IS NULL OR a.user_id = $2::uuid)"                                            \
    "   AND ($3::text IS NULL OR starts_with(a.action, $3::text))"                                 \
    "   AND ($4::text IS NULL OR a.result = $4::text)"                                             \
    "   AND ($5::text IS NULL OR a.target_type = $5::text)"                                        \
    "   AND ($6::text IS NULL OR a.target_id = $6::text)"                                          \
    "   AND ($7::timestamptz IS NULL OR a.created_at >= $7::timestamptz)"                          \
    "   AND ($8::timestamptz IS NULL OR a.created_at <= $8::timestamptz)"                          \
    "   AND ($9::uuid IS NULL OR (a.created_at, a.id) < (SELECT b.created_at, b.id"                \
    "        FROM audit_logs b WHERE b.id = $9::uuid AND b.account_id = $1::uuid))"

#define AUDIT_OBJECT                                                                               \
    "json_build_object('id', a.id, 'account_id', a.account_id, 'user_id', a.user_id,"              \
    " 'action', a.action, 'target_type', a.target_type, 'target_id', a.target_id,"                 \
    " 'ip', host(a.ip), 'user_agent', a.user_agent, 'result', a.result,"                           \
    " 'details', a.details, 'created_at', a.created_at)"

static int
bad(pn_req_t *req, const char *field, const char *msg)
{
    pnk_fail_field(req, field, "%s", msg);
    return pnk_fail(req, PN_E_INVALID, "invalid query parameter");
}

static bool
too_long(const char *s, size_t max)
{
    return s && (s[0] == '\0' || strlen(s) > max);
}

int
pnk_identity_audit_list(pn_req_t *req)
{
    const char *account, *self;
    const char *user = pnk_req_query(req, "user_id"), *action = pnk_req_query(req, "action");
    const char *result = pnk_req_query(req, "result");
    const char *ttype = pnk_req_query(req, "target_type");
    const char *tid = pnk_req_query(req, "target_id");
    const char *from = pnk_req_query(req, "from"), *to = pnk_req_query(req, "to");
    const char *before = pnk_req_query(req, "before");
    pnk_identity_page_t pg;
    int rc;

    if ((rc = pnk_identity_caller(req, NULL, &self)) != PN_OK ||
        (rc = pnk_identity_list_account(req, "admin.audit_logs.read", &account)) != PN_OK ||
        (rc = pnk_identity_page_from_query(req, &pg)) != PN_OK)
        return rc;
    if (user && !pnk_identity_uuid_ok(user))
        return bad(req, "user_id", "must be a uuid");
    if (before && !pnk_identity_uuid_ok(before))
        return bad(req, "before", "must be the id of an audit row");
    if (too_long(action, 100))
        return bad(req, "action", "must be 1 to 100 characters");
    if (result && strcmp(result, "success") != 0 && strcmp(result, "failure") != 0 &&
        strcmp(result, "denied") != 0)
        return bad(req, "result", "must be success, failure or denied");
    if (too_long(ttype, 100))
        return bad(req, "target_type", "must be 1 to 100 characters");
    if (too_long(tid, 200))
        return bad(req, "target_id", "must be 1 to 200 characters");
    if (from && !pnk_identity_rfc3339_ok(from))
        return bad(req, "from", "must be an RFC 3339 date-time");
    if (to && !pnk_identity_rfc3339_ok(to))
        return bad(req, "to", "must be an RFC 3339 date-time");
    /* Without the administrative permission the log is your own activity only. */
    if (!pnk_req_can(req, "admin.audit_logs.read")) {
        if (user && strcasecmp(user, self) != 0)
            return pnk_fail(req, PN_E_FORBIDDEN,
                            "permission admin.audit_logs.read is required for other users' rows");
        user = self;
    }

    char limit[24], offset[24];
    (void)snprintf(limit, sizeof limit, "%ld", pg.per_page);
    (void)snprintf(offset, sizeof offset, "%ld", pg.offset);
    const char *params[11] = {account, user, action, result, ttype, tid,
                              from,    to,   before, limit,  offset};
    pn_rows_t *rows = NULL, *count = NULL;
    if ((rc = pnk_req_db_query(req,
                               "SELECT " AUDIT_OBJECT ", a.id FROM audit_logs a" AUDIT_WHERE
                               " ORDER BY a.created_at DESC, a.id DESC"
                               " LIMIT $10::bigint OFFSET $11::bigint",
                               11, params, &rows)) != PN_OK ||
        (rc = pnk_req_db_query(req, "SELECT count(*) FROM audit_logs a" AUDIT_WHERE, 9, params,
                               &count)) != PN_OK)
        return rc;
    json_t *list = pnk_identity_objects(rows, 0);
    const char *total = pnk_identity_value(count, 0);
    json_t *meta = pnk_identity_page_meta(&pg, total ? strtol(total, NULL, 10) : 0);
    int n = pnk_rows_count(rows);
    if (!list || !meta) {
        json_decref(list);
        json_decref(meta);
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    }
    /* The keyset cursor: pass it as ?before= to continue below this page without OFFSET. */
    json_object_set_new(json_object_get(meta, "pagination"), "next_before",
                        n == pg.per_page ? json_string(pnk_rows_value(rows, n - 1, 1))
                                         : json_null());
    return pnk_reply_json(req, 200, list, meta);
}
