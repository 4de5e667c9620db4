/*
 * API keys: credentials for programs, acting for their owner with a subset of the owner's
 * permissions. A key reads `pnk_<prefix>_<secret>`: prefix 8 lower-case hex digits (shown in
 * lists so people can tell keys apart), secret 43 base64url characters (32 random bytes).
 * Only SHA-256 of the whole key is stored. A slow hash (argon2) protects guessable secrets
 * such as passwords; a 256-bit random secret cannot be guessed, so one SHA-256 is as strong
 * for it, and it keeps the per-request check to one indexed lookup instead of ~20 ms of
 * argon2 on every call.
 *
 * At each request the key's permissions are intersected with what the owner holds then, so
 * taking a role from the owner also takes it from their keys. Revoked or expired keys, and
 * keys of inactive users or accounts, are refused. last_used_at is written at most once a
 * minute per key.
 */
#ifndef PNK_APIKEY_H
#define PNK_APIKEY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../app/request.h"

#define PNK_APIKEY_MAX_PERMS 100

/*
 * Create a key for user_id, in the caller's account (req->principal.account_id), for the
 * admin routes of kernel/src/identity. Runs on the request's connection, so it joins the
 * caller's transaction if one is open.
 *   name        1..100 characters
 *   perms, n    1..PNK_APIKEY_MAX_PERMS registered permission names (duplicates collapse);
 *               the caller must hold every one of them (nobody grants what they lack)
 *   expires_at  NULL (never) or an ISO 8601 time in the future, e.g. "2026-01-31T00:00:00Z"
 * On PN_OK *out_with_plaintext (new reference, caller owns) is
 *   {"id","name","prefix","user_id","permissions":[...],"expires_at","created_at",
 *    "key":"pnk_<prefix>_<secret>"}
 * where "key" is the only copy of the secret: show it once, never log it.
 * Errors, through pnk_fail: PN_E_INVALID (name, perms, expires_at, with field details),
 * PN_E_NOTFOUND (no such active user in the caller's account), PN_E_FORBIDDEN (a permission
 * the caller lacks), or a database code.
 */
int pnk_apikey_create(pn_req_t *req, const char *user_id, const char *name,
                      const char *const *perms, size_t n, const char *expires_at,
                      json_t **out_with_plaintext);

/* Whether a credential is shaped like an API key (starts with "pnk_"), as opposed to a JWT. */
bool pnk_apikey_shaped(const char *credential);

/*
 * Make req->principal the APIKEY principal of key (token_id = the key's id). PN_OK;
 * PN_E_UNAUTH with the reason in why and nothing failed yet (the caller refuses); or a
 * database code already failed on the request.
 */
int pnk_apikey_authenticate(pn_req_t *req, const char *key, char *why, size_t whylen);

#endif
