/* Circuit breaker state machine: closed -> open (cooldown) -> half-open (one probe). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breaker.h"

#define MAX_TARGETS 32

typedef struct {
    char name[48];
    int failures;
    double open_until; /* 0 = closed */
    bool probing;      /* half-open probe in flight */
} target_t;

struct pnw_breakers {
    pthread_mutex_t mu;
    int threshold;
    double scale;
    target_t t[MAX_TARGETS];
    int n;
};

double
pnw_breaker_cooldown(const char *target)
{
    if (!strcmp(target, "ai_provider") || !strcmp(target, "mission"))
        return 600;
    return 120;
}

pnw_breakers_t *
pnw_breakers_new(int failures, double cooldown_scale)
{
    pnw_breakers_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    b->threshold = failures > 0 ? failures : 5;
    b->scale = cooldown_scale > 0 ? cooldown_scale : 1;
    return b;
}

void
pnw_breakers_free(pnw_breakers_t *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* Under the lock. Unknown targets beyond the table share the last slot's fate: never. */
static target_t *
get(pnw_breakers_t *b, const char *name)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->t[i].name, name))
            return &b->t[i];
    if (b->n == MAX_TARGETS || strlen(name) >= sizeof b->t[0].name)
        return NULL;
    target_t *t = &b->t[b->n++];
    memset(t, 0, sizeof *t);
    (void)snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

bool
pnw_breaker_allow(pnw_breakers_t *b, const char *target, double now)
{
    bool ok = true;
    pthread_mutex_lock(&b->mu);
    target_t *t = get(b, target);
    if (t && t->open_until > 0) {
        if (now < t->open_until || t->probing)
            ok = false;
        else
            t->probing = true; /* the one half-open probe */
    }
    pthread_mutex_unlock(&b->mu);
    return ok;
}

void
pnw_breaker_report(pnw_breakers_t *b, const char *target, bool ok, double now)
{
    pthread_mutex_lock(&b->mu);
    target_t *t = get(b, target);
    if (t) {
        if (ok) {
            t->failures = 0;
            t->open_until = 0;
            t->probing = false;
        } else {
            t->failures++;
            if (t->probing || t->failures >= b->threshold) {
                t->open_until = now + pnw_breaker_cooldown(target) * b->scale;
                t->probing = false;
            }
        }
    }
    pthread_mutex_unlock(&b->mu);
}

json_t *
pnw_breakers_json(pnw_breakers_t *b, double now)
{
    json_t *o = json_object();
    pthread_mutex_lock(&b->mu);
    for (int i = 0; o && i < b->n; i++) {
        const target_t *t = &b->t[i];
        const char *st = t->open_until == 0                   ? "closed"
                         : t->probing || now >= t->open_until ? "half-open"
                                                              : "open";
        json_object_set_new(o, t->name,
                            json_pack("{s:s, s:i, s:f}", "state", st, "failures", t->failures,
                                      "open_until", t->open_until));
    }
    pthread_mutex_unlock(&b->mu);
    return o;
}

bool
pnw_breaker_probing(pnw_breakers_t *b, const char *target)
{
    pthread_mutex_lock(&b->mu);
    target_t *t = get(b, target);
    bool p = t && t->probing;
    pthread_mutex_unlock(&b->mu);
    return p;
}
