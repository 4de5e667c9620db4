/*
 * A short-lived in-process cache of user principals (email, admin flag, sorted permissions),
 * so an authenticated request costs no database round trip for its identity.
 *
 * Freshness: every change made through the API to users, roles or accounts (any successful
 * mutating request on an admin.* route) empties the cache on every server instance at once,
 * through a Redis broadcast. Changes made behind the API's back (SQL by hand) apply within
 * auth.principal_cache_seconds (default 2; 0 turns the cache off), and so does a broadcast
 * lost while Redis was unreachable (authenticated requests fail with 503 meanwhile anyway,
 * since the token denylist lives in Redis). Thread-safe.
 */
#ifndef PNK_PCACHE_H
#define PNK_PCACHE_H

#include <stdbool.h>

#include "../app/request.h"

/* Set the lifetime (seconds; 0 disables). Called from pnk_auth_init. */
void pnk_pcache_configure(double ttl_seconds);
/* Subscribe to the broadcast (after Redis is initialised). 0, or -1 with err. */
int pnk_pcache_start(char *err, size_t errlen);
void pnk_pcache_stop(void);

/* Fill p (strings copied into the arena) from a fresh entry for (user, account); false when
 * there is none. p->user_id/account_id/token_id are left for the caller. */
bool pnk_pcache_get(const char *user_id, const char *account_id, pnk_arena_t *arena,
                    pnk_principal_t *p);
/* Remember a principal loaded from the database. */
void pnk_pcache_put(const char *user_id, const char *account_id, const pnk_principal_t *p);
/* Drop everything here and tell every other instance to do the same. */
void pnk_pcache_changed(void);

#endif
