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

/* The client's address as text ("127.0.0.1", "::1"), in the request arena; "-" when the peer
 * is not an address. Proxies are not trusted: this is the TCP peer. */
const char *pnk_guard_client_ip(pn_req_t *req);

/*
 * Count one request of scope:id in the current minute against limit (<= 0: not counted).
 * PN_OK, or through pnk_fail PN_E_RATELIMIT with a Retry-After header, or PN_E_UNAVAILABLE.
 */
int pnk_guard_rate(pn_req_t *req, const char *scope, const char *id, int limit);

/*
 * One round trip for an access token: is jti denylisted (*denied), and, when it is not and
 * limit > 0, count one request of user:id. PN_OK (check *denied), or through pnk_fail
 * PN_E_RATELIMIT (with Retry-After) or PN_E_UNAVAILABLE.
 */
int pnk_guard_token(pn_req_t *req, const char *jti, const char *user_id, int limit, bool *denied);

/* Denylist jti until exp plus the verifier's leeway, after which the token is refused on its
 * own. PN_OK, or PN_E_UNAVAILABLE with err. */
int pnk_guard_deny(const char *jti, int64_t exp, char *err, size_t errlen);

#endif
