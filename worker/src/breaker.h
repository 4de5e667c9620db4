/*
 * Circuit breakers per target, per process: after `failures` consecutive failures a target
 * is open (calls refused at once) for its cooldown (backend 120 s, ai_provider 600 s,
 * mission 600 s, web_auth 120 s kept apart from backend, others 120 s); then one probe is let
 * through (half-open): success closes it, failure opens it again. Thread-safe.
 */
#ifndef PNW_BREAKER_H
#define PNW_BREAKER_H

#include <jansson.h>
#include <stdbool.h>

typedef struct pnw_breakers pnw_breakers_t;

pnw_breakers_t *pnw_breakers_new(int failures, double cooldown_scale);
void pnw_breakers_free(pnw_breakers_t *b);
bool pnw_breaker_allow(pnw_breakers_t *b, const char *target, double now);
void pnw_breaker_report(pnw_breakers_t *b, const char *target, bool ok, double now);
/* {"backend":{"state":"open","failures":5,"until":...}, ...} for the heartbeat. */
json_t *pnw_breakers_json(pnw_breakers_t *b, double now);
double pnw_breaker_cooldown(const char *target);
/* True while a half-open probe is in flight: a caller may wait briefly for its outcome
 * instead of failing at once. */
bool pnw_breaker_probing(pnw_breakers_t *b, const char *target);

#endif
