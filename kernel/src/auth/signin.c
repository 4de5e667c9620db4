/*
 * Shared steps of the sign-in routes: lockout, audit rows, refresh token rows and the token
 * reply. See signin.h.
 */
#include "signin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_int.h"
#include "codec.h"
#include "guard.h"
#include "pcache.h"

#include "../audit/audit.h"
#include "../core/log.h"

void
pnk_signin_audit(pn_req_t *req, const char *action, const char *result, const char *account_id,
                 const char *user_id, json_t *details)
{
    pnk_audit_event_t ev = {.action = action,
                            .target_type = user_id ? "user" : NULL,
                            .target_id = user_id,
                            .result = result,
                            .account_id = account_id,
                            .user_id = user_id,
                            .details = details};
    (void)pnk_audit_record(req, &ev);
}

const char *
pnk_signin_core_account(pn_req_t *req)
{
    pn_rows_t *rows = NULL;
    int saved = req->err_code;
    char *msg = req->err_msg;
    if (pnk_req_db_query(req, "SELECT id FROM accounts LIMIT 2", 0, NULL, &rows) != PN_OK) {
        req->err_code = saved; /* a lookup for the audit row is not the request's failure */
        req->err_msg = msg;
        return NULL;
    }
    return pnk_rows_count(rows) == 1 ? pnk_rows_value(rows, 0, 0) : NULL;
}

int
pnk_signin_failed(pn_req_t *req, const char *user_id, const char *account_id, bool *locked_now)
{
    const pnk_auth_policy_t *pol = pnk_auth_policy();
    char threshold[16], seconds[16];
    (void)snprintf(threshold, sizeof threshold, "%d", pol->lockout_threshold);
    (void)snprintf(seconds, sizeof seconds, "%d", pol->lockout_seconds);
    const char *params[] = {user_id, threshold, seconds};
    pn_rows_t *rows = NULL;
    /* SET expressions see the old row, so both columns decide on the same count. */
    int rc = pnk_req_db_query(
        req,
        "UPDATE users SET"
        "  failed_logins = CASE WHEN $2::int > 0 AND failed_logins + 1 >= $2::int THEN 0"
        "                       ELSE failed_logins + 1 END,"
        "  locked_until = CASE WHEN $2::int > 0 AND failed_logins + 1 >= $2::int"
        "                      THEN now() + make_interval(secs => $3::int) ELSE locked_until END"
        " WHERE id = $1 RETURNING coalesce(locked_until > now(), false)",
        3, params, &rows);
    *locked_now = false;
    if (rc != PN_OK)
        return rc;
    const char *v = pnk_rows_count(rows) == 1 ? pnk_rows_value(rows, 0, 0) : NULL;
    if (v && strcmp(v, "t") == 0) {
        *locked_now = true;
        PNK_WARN("auth", "account locked user=%s seconds=%d", user_id, pol->lockout_seconds);
        pnk_signin_audit(req, "auth.lockout", "denied", account_id, user_id,
                         json_pack("{s:i, s:i}", "failures", pol->lockout_threshold, "seconds",
                                   pol->lockout_seconds));
    }
    return PN_OK;
}

int
pnk_signin_locked(pn_req_t *req, long seconds)
{
    char value[24];
    (void)snprintf(value, sizeof value, "%ld", seconds < 1 ? 1 : seconds);
    (void)pnk_reply_header(req, "Retry-After", value);
    return pnk_fail(req, PN_E_LOCKED, "account locked after repeated failures; retry later");
}

void
pnk_signin_hash(const char *secret, char out[65])
{
    pnk_codec_sha256_hex(secret, strlen(secret), out);
}

int
pnk_signin_refresh_new(pn_req_t *req, const char *user_id, const char *account_id,
                       const char **family, const char **token, char id_out[37])
{
    unsigned char raw[PNK_REFRESH_TOKEN_BYTES];
    char *tok = pnk_arena_alloc(req->arena, PNK_B64URL_LEN(sizeof raw));
    char hash[65], fam[37], ttl[16];
    if (!tok)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    if (!pnk_codec_random(raw, sizeof raw))
        return pnk_fail(req, PN_E_INTERNAL, "no randomness for a refresh token");
    pnk_codec_b64url(raw, sizeof raw, tok, PNK_B64URL_LEN(sizeof raw));
    pnk_signin_hash(tok, hash);
    pnk_uuid_v7(id_out);
    if (!*family) {
        pnk_uuid_v7(fam);
        if (!(*family = pnk_arena_strdup(req->arena, fam)))
            return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    }
    (void)snprintf(ttl, sizeof ttl, "%d", pnk_auth_policy()->refresh_ttl);
    const char *ip = pnk_req_client_ip(req);
    const char *ua = pnk_req_header(req, "User-Agent");
    const char *params[] = {id_out,
                            account_id,
                            user_id,
                            *family,
                            hash,
                            ttl,
                            ua ? pnk_arena_strndup(req->arena, ua, 512) : NULL,
                            strcmp(ip, "-") ? ip : NULL};
    int rc = pnk_req_db_query(
        req,
        "INSERT INTO refresh_tokens (id, account_id, user_id, family_id, token_hash, expires_at,"
        "                            user_agent, ip)"
        " VALUES ($1, $2, $3, $4, decode($5, 'hex'), now() + make_interval(secs => $6::int),"
        "         $7, $8::inet)",
        8, params, NULL);
    if (rc != PN_OK)
        return rc;
    *token = tok;
    return PN_OK;
}

int
pnk_signin_reply(pn_req_t *req, const char *user_id, const char *account_id, const char *email,
                 const char *name, const char *refresh, const char *session)
{
    char *token = NULL, err[160];
    int expires_in = 0;
    if (pnk_auth_issue_access(user_id, account_id, session, &token, &expires_in, NULL, err,
                              sizeof err) != PN_OK) {
        PNK_ERROR("auth", "cannot issue access token reason=\"%s\"", err);
        return pnk_fail(req, PN_E_INTERNAL, "cannot issue a token");
    }
    json_t *data =
        json_pack("{s:s, s:s, s:i, s:s, s:i, s:{s:s, s:s, s:s, s:s}}", "access_token", token,
                  "token_type", "Bearer", "expires_in", expires_in, "refresh_token", refresh,
                  "refresh_expires_in", pnk_auth_policy()->refresh_ttl, "user", "id", user_id,
                  "email", email, "name", name, "account_id", account_id);
    free(token);
    if (!data)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    /* RFC 6749 §5.1: responses carrying tokens must not be cached. */
    (void)pnk_reply_header(req, "Cache-Control", "no-store");
    return pnk_reply_json(req, 200, data, NULL);
}

int
pnk_signin_complete(pn_req_t *req, const char *user_id, const char *account_id, const char *email,
                    const char *name, const char *action, json_t *details)
{
    const char *refresh = NULL, *session = NULL;
    char id[37];
    int rc = pnk_req_db_begin(req);
    if (rc == PN_OK)
        rc = pnk_req_db_query(req,
                              "UPDATE users SET failed_logins = 0, locked_until = NULL,"
                              "       last_login_at = now() WHERE id = $1",
                              1, &user_id, NULL);
    if (rc == PN_OK)
        rc = pnk_signin_refresh_new(req, user_id, account_id, &session, &refresh, id);
    if (rc == PN_OK) {
        pnk_signin_audit(req, action, "success", account_id, user_id, details);
        details = NULL;
        rc = pnk_req_db_commit(req);
    }
    json_decref(details);
    if (rc != PN_OK)
        return rc; /* the dispatcher rolls back an open transaction */
    PNK_INFO("auth", "sign-in user=%s", user_id);
    pnk_pcache_user_changed(user_id); /* last_login_at, shown by /auth/me */
    return pnk_signin_reply(req, user_id, account_id, email, name, refresh, session);
}

int
pnk_signin_end_session(pn_req_t *req, const char *session)
{
    int ttl = 0;
    char err[200];
    (void)pnk_auth_ring(&ttl);
    if (pnk_guard_deny_session(session, ttl, err, sizeof err) == PN_OK)
        return PN_OK;
    PNK_ERROR("auth", "cannot end session %s reason=\"%s\"", session, err);
    return pnk_fail(req, PN_E_UNAVAILABLE, "sign-out is unavailable");
}

int
pnk_signin_need_user(pn_req_t *req)
{
    if (req->principal.kind == PNK_PRINCIPAL_USER && req->principal.user_id)
        return PN_OK;
    return pnk_fail(req, PN_E_FORBIDDEN, "this needs a signed-in user, not an API key");
}

int
pnk_signin_no_two_factor(pn_req_t *req)
{
    /* Shown as it is: configuration the operator must fix, not an internal detail. */
    return pnk_reply_error_shown(req, 503, "two-factor is not configured");
}
