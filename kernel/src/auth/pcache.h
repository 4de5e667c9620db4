/*
 * A short-lived in-process cache of user principals (email, admin flag, sorted permissions,
 * and the /auth/me profile), so an authenticated request costs no database round trip for its
 * identity.
 *
 * Freshness: every change made through the API to users, roles or accounts (any successful
 * mutating request on an admin.* route) empties the cache on every server instance at once,
 * through a Redis broadcast; a change a user makes to themselves (auth.self.* routes, sign-in)
 * drops that user's entries the same way. Changes made behind the API's back (SQL by hand) apply
 * within auth.principal_cache_seconds (default 2; 0 turns the cache off), and so does a broadcast
 * lost while Redis was unreachable (authenticated requests fail with 503 meanwhile anyway,
 * since the token denylist lives in Redis). Thread-safe.
 */
#ifndef PNK_PCACHE_H
#define PNK_PCACHE_H

#include <stdbool.h>
#include <stdint.h>

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
/* The same for one user's entries only (a change the user made to themselves). */
void pnk_pcache_user_changed(const char *user_id);

/* The /auth/me reply (the whole JSON body for a signed-in user) kept beside a fresh principal
 * entry: get returns an arena copy, or NULL when there is none. put attaches it only to an
 * entry that is present and fresh, and only when nothing was dropped since gen (taken with
 * pnk_pcache_generation before the profile was read), so a profile read before a change can
 * never be kept after it. */
char *pnk_pcache_get_profile(const char *user_id, const char *account_id, pnk_arena_t *arena);
uint64_t pnk_pcache_generation(void);

/* Access tokens recently found on neither denylist (guard.h), so a request without a per-user
 * rate limit to count needs no Redis round trip. Emptied with everything else by
 * pnk_pcache_changed, which every revocation calls (logout, password change, refresh reuse),
 * on every instance; put is ignored when anything was dropped since gen, taken before the
 * Redis check, so a check that raced a revocation is never remembered. */
bool pnk_pcache_token_clean(const char *jti);
void pnk_pcache_token_put(const char *jti, uint64_t gen);
void pnk_pcache_put_profile(const char *user_id, const char *account_id, uint64_t gen,
                            const char *json);

#endif
