/* Shared between the files of the auth area only. */
#ifndef PNK_AUTH_INT_H
#define PNK_AUTH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "jwt.h"

/* Verify a bearer token with the keys of pnk_auth_init; PN_E_UNAUTH with why when not
 * initialised. */
int pnk_auth_verify_token(const char *token, int64_t now, pnk_jwt_claims_t *out, char *why,
                          size_t whylen);

/* The key ring and access token lifetime set by pnk_auth_init (NULL before). */
const pnk_jwt_t *pnk_auth_ring(int *ttl);

/* Replace the registered permission names (sorted, malloc'd; ownership moves here). */
void pnk_auth_registry_set(char **names, size_t n);

#endif
