/*
 * The Redis side of sign-in security: request counting for the rate limits and the denylist
 * of signed-out access tokens, both on the cache target. Every failure to reach Redis is a
 * refusal (503): these checks fail closed.
 */
#ifndef PNK_GUARD_H
#define PNK_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "../app/request.h"

/*
 * Count one request of scope:id in the current minute against limit (<= 0: not counted).
 * PN_OK, or through pnk_fail PN_E_RATELIMIT with a Retry-After header, or PN_E_UNAVAILABLE.
 */
int pnk_guard_rate(pn_req_t *req, const char *scope, const char *id, int limit);

/*
 * One round trip for an access token: is jti or its session (the sid claim; NULL or "" for
 * none) denylisted (*denied), and, when neither is and limit > 0, count one request of
 * user:id. PN_OK (check *denied), or through pnk_fail PN_E_RATELIMIT (with Retry-After) or
 * PN_E_UNAVAILABLE.
 */
int pnk_guard_token(pn_req_t *req, const char *jti, const char *session, const char *user_id,
                    int limit, bool *denied);

/* Denylist jti until exp plus the verifier's leeway, after which the token is refused on its
 * own. PN_OK, or PN_E_UNAVAILABLE with err. */
int pnk_guard_deny(const char *jti, int64_t exp, char *err, size_t errlen);

/* Denylist every access token of a session (refresh family) for ttl seconds, the longest an
 * access token of it can still be valid: signing a session out, a password change and a
 * reused refresh token end its access tokens at once, not when they expire. PN_OK, or
 * PN_E_UNAVAILABLE with err. */
int pnk_guard_deny_session(const char *session, int64_t ttl, char *err, size_t errlen);

#endif
