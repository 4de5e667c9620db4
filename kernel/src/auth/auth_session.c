/*
 * Sessions after sign-in: refresh token rotation with reuse detection, logout (refresh family
 * revoked, access token denylisted) and password change (other sessions revoked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "auth_int.h"
#include "guard.h"
#include "password.h"
#include "signin.h"

#include "../core/log.h"

/* The row locked, so two concurrent uses of one token are serialised: the second sees the
 * first one's replacement and counts as reuse. */
static const char sql_presented[] =
    "SELECT rt.id, rt.family_id, rt.user_id, rt.account_id,"
    "       rt.revoked_at IS NOT NULL OR rt.replaced_by IS NOT NULL, rt.expires_at <= now(),"
    "       u.email, u.name, u.status = 'active' AND a.status = 'active',"
    "       (SELECT min(f.created_at) FROM refresh_tokens f WHERE f.family_id = rt.family_id)"
    "         + make_interval(secs => $2::int) <= now()"
    "  FROM refresh_tokens rt"
    "  JOIN users u ON u.id = rt.user_id AND u.account_id = rt.account_id"
    "  JOIN accounts a ON a.id = rt.account_id"
    " WHERE rt.token_hash = decode($1, 'hex')"
    "   FOR UPDATE OF rt";

static int
refresh_refused(pn_req_t *req, const char *msg)
{
    (void)pnk_reply_header(req, "WWW-Authenticate",
                           "Bearer realm=\"powernode\", error=\"invalid_token\"");
    return pnk_fail(req, PN_E_UNAUTH, "%s", msg);
}

static int
revoke_family(pn_req_t *req, const char *family)
{
    return pnk_req_db_query(req,
                            "UPDATE refresh_tokens SET revoked_at = now()"
                            " WHERE family_id = $1 AND revoked_at IS NULL",
                            1, &family, NULL);
}

int
pnk_auth_route_refresh(pn_req_t *req)
{
    int rc = pnk_guard_rate(req, "ip", pnk_req_client_ip(req), pnk_auth_policy()->rate_limit_ip);
    if (rc != PN_OK)
        return rc;
    const char *presented = json_string_value(json_object_get(pnk_req_json(req), "refresh_token"));
    if (!presented)
        return pnk_fail(req, PN_E_INVALID, "refresh_token is required");
    char hash[65], new_id[37];
    pnk_signin_hash(presented, hash);

    pn_rows_t *rows = NULL;
    char max_age[16];
    (void)snprintf(max_age, sizeof max_age, "%d", pnk_auth_policy()->session_max_age);
    const char *qp[] = {hash, max_age};
    if ((rc = pnk_req_db_begin(req)) != PN_OK ||
        (rc = pnk_req_db_query(req, sql_presented, 2, qp, &rows)) != PN_OK)
        return rc;
    if (pnk_rows_count(rows) != 1) {
        pnk_req_db_rollback(req);
        pnk_signin_audit(req, "auth.refresh", "failure", pnk_signin_core_account(req), NULL,
                         json_pack("{s:s}", "reason", "unknown refresh token"));
        return refresh_refused(req, "invalid refresh token");
    }
    const char *id = pnk_rows_value(rows, 0, 0), *family = pnk_rows_value(rows, 0, 1);
    const char *user_id = pnk_rows_value(rows, 0, 2), *account_id = pnk_rows_value(rows, 0, 3);
    if (strcmp(pnk_rows_value(rows, 0, 4), "t") == 0) {
        /* A used or revoked token came back: someone holds a copy. Everything descending from
         * that sign-in goes, the legitimate client included, and it must sign in again. */
        if ((rc = pnk_signin_end_session(req, family)) != PN_OK ||
            (rc = revoke_family(req, family)) != PN_OK)
            return rc;
        PNK_WARN("auth", "refresh token reuse user=%s family=%s: family revoked", user_id, family);
        pnk_signin_audit(req, "auth.refresh.reuse", "denied", account_id, user_id,
                         json_pack("{s:s, s:s}", "family_id", family, "token_id", id));
        if ((rc = pnk_req_db_commit(req)) != PN_OK)
            return rc;
        return refresh_refused(req, "invalid refresh token");
    }
    /* A session ends session_max_age after its sign-in however often it is refreshed, so a
     * stolen refresh token cannot be kept alive for ever by rotating it. */
    bool expired = strcmp(pnk_rows_value(rows, 0, 5), "t") == 0;
    bool too_old = strcmp(pnk_rows_value(rows, 0, 9), "t") == 0;
    if (expired || too_old || strcmp(pnk_rows_value(rows, 0, 8), "t") != 0) {
        pnk_req_db_rollback(req);
        pnk_signin_audit(req, "auth.refresh", "failure", account_id, user_id,
                         json_pack("{s:s}", "reason",
                                   expired   ? "expired"
                                   : too_old ? "session older than auth.session_max_age"
                                             : "user or account not active"));
        return refresh_refused(req, expired || too_old ? "refresh token expired; sign in again"
                                                       : "invalid refresh token");
    }

    const char *token = NULL;
    const char *params[2] = {NULL, id};
    if ((rc = pnk_signin_refresh_new(req, user_id, account_id, &family, &token, new_id)) != PN_OK)
        return rc;
    params[0] = new_id;
    if ((rc = pnk_req_db_query(req, "UPDATE refresh_tokens SET replaced_by = $1 WHERE id = $2", 2,
                               params, NULL)) != PN_OK)
        return rc;
    pnk_signin_audit(req, "auth.refresh", "success", account_id, user_id,
                     json_pack("{s:s}", "family_id", family));
    if ((rc = pnk_req_db_commit(req)) != PN_OK)
        return rc;
    return pnk_signin_reply(req, user_id, account_id, pnk_rows_value(rows, 0, 6),
                            pnk_rows_value(rows, 0, 7), token, family);
}

/* The family of the caller's own refresh token, if it is the caller's and still usable. */
static int
own_family(pn_req_t *req, const char *presented, const char **family)
{
    char hash[65];
    pn_rows_t *rows = NULL;
    *family = NULL;
    if (!presented)
        return PN_OK;
    pnk_signin_hash(presented, hash);
    const char *params[] = {hash, req->principal.user_id};
    int rc = pnk_req_db_query(req,
                              "SELECT family_id FROM refresh_tokens"
                              " WHERE token_hash = decode($1, 'hex') AND user_id = $2",
                              2, params, &rows);
    if (rc == PN_OK && pnk_rows_count(rows) == 1)
        *family = pnk_rows_value(rows, 0, 0);
    return rc;
}

int
pnk_auth_route_logout(pn_req_t *req)
{
    int rc = pnk_signin_need_user(req);
    if (rc != PN_OK)
        return rc;
    json_t *body = pnk_req_json(req);
    json_t *jr = json_object_get(body, "refresh_token");
    if ((body && !json_is_object(body)) || (jr && !json_is_string(jr))) {
        pnk_fail_field(req, "refresh_token", "must be a string");
        return pnk_fail(req, PN_E_INVALID, "body must be {\"refresh_token\": \"...\"} or empty");
    }

    /* The access token's exp bounds the denylist entry; the token was verified moments ago
     * by authentication, so this cannot fail for a genuine request. */
    const char *token = pnk_auth_bearer(pnk_req_header(req, "Authorization"));
    pnk_jwt_claims_t c;
    char why[128], err[200];
    if (!token || pnk_auth_verify_token(token, (int64_t)time(NULL), &c, why, sizeof why) != PN_OK)
        return pnk_fail(req, PN_E_UNAUTH, "invalid or expired token");
    if ((rc = pnk_guard_deny(c.jti, c.exp, err, sizeof err)) != PN_OK) {
        PNK_ERROR("auth", "cannot denylist token reason=\"%s\"", err);
        return pnk_fail(req, rc, "sign-out is unavailable");
    }

    /* The session to end: the refresh token's if one is given, else the access token's own
     * (every access token names its session), so signing out never leaves a session behind. */
    const char *family = NULL;
    pn_rows_t *rows = NULL;
    if ((rc = own_family(req, json_string_value(jr), &family)) != PN_OK)
        return rc;
    if (!family && c.sid[0])
        family = pnk_arena_strdup(req->arena, c.sid);
    int revoked = 0;
    if (family) {
        const char *params[] = {family, req->principal.user_id};
        if ((rc = pnk_signin_end_session(req, family)) != PN_OK ||
            (rc = pnk_req_db_query(req,
                                   "UPDATE refresh_tokens SET revoked_at = now()"
                                   " WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL"
                                   " RETURNING id",
                                   2, params, &rows)) != PN_OK)
            return rc;
        revoked = pnk_rows_count(rows);
    }
    pnk_signin_audit(
        req, "auth.logout", "success", NULL, req->principal.user_id,
        json_pack("{s:s?, s:i}", "family_id", family, "refresh_tokens_revoked", revoked));
    return pnk_reply_json(
        req, 200, json_pack("{s:b, s:b}", "signed_out", 1, "refresh_revoked", family != NULL),
        NULL);
}

int
pnk_auth_route_password(pn_req_t *req)
{
    int rc = pnk_signin_need_user(req);
    if (rc != PN_OK)
        return rc;
    json_t *body = pnk_req_json(req);
    json_t *jc = json_object_get(body, "current_password");
    json_t *jn = json_object_get(body, "new_password");
    const char *user_id = req->principal.user_id, *account_id = req->principal.account_id;
    char err[160];

    const char *params[2] = {user_id, account_id};
    pn_rows_t *rows = NULL;
    if ((rc = pnk_req_db_query(req,
                               "SELECT password_hash, coalesce(locked_until > now(), false),"
                               "       ceil(extract(epoch FROM locked_until - now()))::bigint"
                               "  FROM users WHERE id = $1 AND account_id = $2",
                               2, params, &rows)) != PN_OK)
        return rc;
    if (pnk_rows_count(rows) != 1)
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    if (strcmp(pnk_rows_value(rows, 0, 1), "t") == 0)
        return pnk_signin_locked(req, strtol(pnk_rows_value(rows, 0, 2), NULL, 10));
    /* A stolen access token must not become a way to guess the password without limit: wrong
     * current passwords count towards the lockout like failed sign-ins. */
    if (!pnk_password_verify(pnk_rows_value(rows, 0, 0), json_string_value(jc),
                             json_string_length(jc))) {
        bool locked = false;
        if ((rc = pnk_signin_failed(req, user_id, account_id, &locked)) != PN_OK)
            return rc;
        pnk_signin_audit(req, "auth.password.change", "failure", NULL, user_id,
                         json_pack("{s:s}", "reason", "wrong current password"));
        pnk_fail_field(req, "current_password", "is not your current password");
        return pnk_fail(req, PN_E_INVALID, "current password is incorrect");
    }
    if (pnk_password_check_policy(json_string_value(jn), json_string_length(jn), err, sizeof err) !=
        PN_OK) {
        pnk_fail_field(req, "new_password", "%s", err);
        return pnk_fail(req, PN_E_INVALID, "%s", err);
    }
    char hash[PNK_PASSWORD_HASH_MAX];
    if (pnk_password_hash(json_string_value(jn), json_string_length(jn), hash, sizeof hash, err,
                          sizeof err) != PN_OK) {
        PNK_ERROR("auth", "cannot hash password reason=\"%s\"", err);
        return pnk_fail(req, PN_E_INTERNAL, "cannot hash the password");
    }

    /* The caller's own session survives: the one of the refresh token given, else the one
     * the access token belongs to. */
    const char *keep = NULL;
    if ((rc = own_family(req, json_string_value(json_object_get(body, "refresh_token")), &keep)) !=
        PN_OK)
        return rc;
    if (!keep)
        keep = req->principal.session_id;
    const char *up[] = {user_id, hash};
    const char *rp[] = {user_id, keep};
    pn_rows_t *revoked = NULL;
    if ((rc = pnk_req_db_begin(req)) != PN_OK ||
        (rc = pnk_req_db_query(req,
                               "UPDATE users SET password_hash = $2, password_changed_at = now(),"
                               "       failed_logins = 0, updated_at = now() WHERE id = $1",
                               2, up, NULL)) != PN_OK ||
        (rc = pnk_req_db_query(req,
                               "WITH r AS (UPDATE refresh_tokens SET revoked_at = now()"
                               "            WHERE user_id = $1 AND revoked_at IS NULL"
                               "              AND family_id IS DISTINCT FROM $2::uuid"
                               "        RETURNING family_id)"
                               " SELECT DISTINCT family_id FROM r",
                               2, rp, &revoked)) != PN_OK)
        return rc;
    int nrevoked = pnk_rows_count(revoked);
    /* Their access tokens end now too, not up to access_ttl later. */
    for (int i = 0; i < nrevoked; i++)
        if ((rc = pnk_signin_end_session(req, pnk_rows_value(revoked, i, 0))) != PN_OK)
            return rc;
    pnk_signin_audit(
        req, "auth.password.change", "success", NULL, user_id,
        json_pack("{s:i, s:b}", "sessions_revoked", nrevoked, "kept_session", keep != NULL));
    if ((rc = pnk_req_db_commit(req)) != PN_OK)
        return rc;
    PNK_INFO("auth", "password changed user=%s sessions_revoked=%d", user_id, nrevoked);
    return pnk_reply_json(
        req, 200, json_pack("{s:b, s:i}", "password_changed", 1, "sessions_revoked", nrevoked),
        NULL);
}
