/*
 * What the sign-in routes share: the lockout counter, audit rows for identity events, refresh
 * token rows, and finishing a sign-in (tokens issued and returned). Kernel-internal to the
 * auth area; every function works through the request's database connection.
 */
#ifndef PNK_SIGNIN_H
#define PNK_SIGNIN_H

#include <jansson.h>
#include <stdbool.h>

#include "../app/request.h"

#define PNK_REFRESH_TOKEN_BYTES 32

/* An audit row for an identity event on user_id (target "user"). account_id NULL: the
 * principal's, else the core-mode account (see pnk_signin_core_account). details stolen. */
void pnk_signin_audit(pn_req_t *req, const char *action, const char *result, const char *account_id,
                      const char *user_id, json_t *details);

/* The only account when there is exactly one (core mode), else NULL: where failed sign-ins
 * for unknown emails are recorded. */
const char *pnk_signin_core_account(pn_req_t *req);

/* A failed sign-in step for user_id: count it and lock the account when the count reaches
 * the threshold (the count starts again then). *locked_now tells whether this one locked it
 * (the lockout is audited here). PN_OK or a database code. */
int pnk_signin_failed(pn_req_t *req, const char *user_id, const char *account_id, bool *locked_now);

/* 423 "account locked" with Retry-After: seconds (at least 1). */
int pnk_signin_locked(pn_req_t *req, long seconds);

/* SHA-256 hex of a presented secret (refresh token, API key): the lookup key. */
void pnk_signin_hash(const char *secret, char out[65]);

/*
 * Insert a refresh token for the user in *family (NULL: a new family, whose id is stored in
 * *family, request arena), inside the caller's transaction. *token gets the plaintext
 * (request arena), id_out the row id.
 */
int pnk_signin_refresh_new(pn_req_t *req, const char *user_id, const char *account_id,
                           const char **family, const char **token, char id_out[37]);

/*
 * Finish a sign-in (password or second step): reset the failure count, set last_login_at,
 * start a refresh family, audit `action` as a success, commit, then reply 200 with
 * {access_token, token_type, expires_in, refresh_token, refresh_expires_in, user}.
 * details is stolen.
 */
int pnk_signin_complete(pn_req_t *req, const char *user_id, const char *account_id,
                        const char *email, const char *name, const char *action, json_t *details);

/* Reply 200 with an access token of session (the refresh family) for user and the given
 * refresh token (no-store). */
int pnk_signin_reply(pn_req_t *req, const char *user_id, const char *account_id, const char *email,
                     const char *name, const char *refresh, const char *session);

/* End the access tokens of a session (refresh family) now; call before committing its
 * revocation, so a Redis failure (503) leaves the session whole rather than half ended. */
int pnk_signin_end_session(pn_req_t *req, const char *session);

/* PN_OK for a signed-in user; 403 for API keys (self-service routes are for people). */
int pnk_signin_need_user(pn_req_t *req);

/* 503 {"error": "two-factor is not configured"}: no auth.master_key. */
int pnk_signin_no_two_factor(pn_req_t *req);

#endif
