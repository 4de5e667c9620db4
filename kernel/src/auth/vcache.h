/*
 * Tokens already verified, so a client that sends the same access token on every request does
 * not pay for three base64 decodes, three JSON parses and an HMAC each time. A hit needs the
 * very same bytes as a token that passed pnk_jwt_verify with the current keys; its time claims
 * are checked again against now on every hit. Revocation is not this cache's business: the
 * denylists (guard.h) run after it as before. Bounded (direct-mapped slots), thread-safe,
 * emptied when the keys change (pnk_auth_init, pnk_auth_fini).
 */
#ifndef PNK_VCACHE_H
#define PNK_VCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "jwt.h"

/* Claims of a verified token still valid at now; false on a miss. */
bool pnk_vcache_get(const char *token, int64_t now, pnk_jwt_claims_t *out);
/* Remember claims that pnk_jwt_verify has just accepted for token. */
void pnk_vcache_put(const char *token, const pnk_jwt_claims_t *claims);
void pnk_vcache_clear(void);

#endif
