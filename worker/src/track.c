/* Run history rings, the runaway table (direct-mapped by a hash of class and args) and
 * named counters. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "track.h"

#define SLOTS 1024
#define MAX_RING 33
#define MAX_COUNTERS 256

typedef struct {
    double start, ms;
    char result[8];
} run_t;

typedef struct {
    run_t r[PNW_TRACK_RUNS];
    int next, n;
} ring_t;

typedef struct {
    uint64_t key;
    double until;
    char label[96]; /* "<class> <args>" shortened, for the heartbeat */
    double t[MAX_RING];
    int next, n;
} slot_t;

typedef struct {
    char name[64];
    long delta;
} counter_t;

struct pnw_track {
    pthread_mutex_t mu;
    size_t nclasses;
    ring_t *rings;
    slot_t *slots;
    int max_runs, window, disable;
    counter_t counters[MAX_COUNTERS];
    int ncounters;
};

pnw_track_t *
pnw_track_new(size_t nclasses, int max_runs, int window_s, int disable_s)
{
    pnw_track_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->mu, NULL);
    t->nclasses = nclasses;
    t->rings = calloc(nclasses ? nclasses : 1, sizeof *t->rings);
    t->slots = calloc(SLOTS, sizeof *t->slots);
    t->max_runs = max_runs < 1 ? 1 : max_runs > MAX_RING - 1 ? MAX_RING - 1 : max_runs;
    t->window = window_s;
    t->disable = disable_s;
    if (!t->rings || !t->slots) {
        pnw_track_free(t);
        return NULL;
    }
    return t;
}

void
pnw_track_free(pnw_track_t *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->rings);
    free(t->slots);
    free(t);
}

/* FNV-1a, 64 bit. */
static uint64_t
fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

double
pnw_track_runaway(pnw_track_t *t, const char *job_class, const json_t *args, double now,
                  bool *newly)
{
    int share;
    return pnw_track_check(t, job_class, args, now, newly, NULL, NULL, 0, &share);
}

double
pnw_track_check(pnw_track_t *t, const char *job_class, const json_t *args, double now, bool *newly,
                uint64_t *digest, char *label, size_t labellen, int *share)
{
    char *a = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    uint64_t key = fnv(14695981039346656037ull, job_class, strlen(job_class) + 1);
    key = fnv(key, a ? a : "", a ? strlen(a) : 0);
    if (digest)
        *digest = key;
    if (label && labellen)
        (void)snprintf(label, labellen, "%s %.60s", job_class, a ? a : "");
    double until = 0;
    *newly = false;
    *share = 0;
    pthread_mutex_lock(&t->mu);
    slot_t *s = &t->slots[key % SLOTS];
    if (s->key != key) {
        memset(s, 0, sizeof *s);
        s->key = key;
    }
    if (s->until > now) {
        until = s->until;
    } else {
        s->t[s->next] = now;
        s->next = (s->next + 1) % (t->max_runs + 1);
        if (s->n < t->max_runs + 1)
            s->n++;
        int recent = 0;
        for (int k = 1; k <= s->n; k++)
            recent += now - s->t[(s->next - k + t->max_runs + 1) % (t->max_runs + 1)] < t->window;
        *share = recent < 2 ? 0 : recent == 2 ? 2 : 1;
        /* The oldest of the last max_runs + 1 runs is still inside the window: too many. */
        if (s->n == t->max_runs + 1 && now - s->t[s->next] < t->window) {
            s->until = until = now + t->disable;
            s->n = 0;
            *newly = true;
            (void)snprintf(s->label, sizeof s->label, "%s %.60s", job_class, a ? a : "");
        }
    }
    pthread_mutex_unlock(&t->mu);
    free(a);
    return until;
}

bool
pnw_track_disable(pnw_track_t *t, uint64_t digest, double until, const char *label)
{
    bool newly = false;
    pthread_mutex_lock(&t->mu);
    slot_t *s = &t->slots[digest % SLOTS];
    if (s->key != digest || s->until < until - 1) {
        newly = s->key != digest || s->until <= 0;
        memset(s, 0, sizeof *s);
        s->key = digest;
        s->until = until;
        (void)snprintf(s->label, sizeof s->label, "%s", label);
    }
    pthread_mutex_unlock(&t->mu);
    return newly;
}

void
pnw_track_run(pnw_track_t *t, int class_index, double start, double ms, const char *result)
{
    if (class_index < 0 || (size_t)class_index >= t->nclasses)
        return;
    pthread_mutex_lock(&t->mu);
    ring_t *r = &t->rings[class_index];
    run_t *x = &r->r[r->next];
    x->start = start;
    x->ms = ms;
    (void)snprintf(x->result, sizeof x->result, "%s", result);
    r->next = (r->next + 1) % PNW_TRACK_RUNS;
    if (r->n < PNW_TRACK_RUNS)
        r->n++;
    pthread_mutex_unlock(&t->mu);
}

void
pnw_track_count(pnw_track_t *t, const char *name, long delta)
{
    pthread_mutex_lock(&t->mu);
    int i = 0;
    for (; i < t->ncounters; i++)
        if (!strcmp(t->counters[i].name, name))
            break;
    if (i == t->ncounters && t->ncounters < MAX_COUNTERS && strlen(name) < 64)
        (void)snprintf(t->counters[t->ncounters++].name, 64, "%s", name);
    if (i < t->ncounters)
        t->counters[i].delta += delta;
    pthread_mutex_unlock(&t->mu);
}

json_t *
pnw_track_runs_json(pnw_track_t *t, const char *const *class_names)
{
    json_t *o = json_object();
    pthread_mutex_lock(&t->mu);
    for (size_t c = 0; o && c < t->nclasses; c++) {
        ring_t *r = &t->rings[c];
        if (r->n == 0)
            continue;
        json_t *arr = json_array();
        for (int k = 1; k <= r->n; k++) {
            run_t *x = &r->r[(r->next - k + PNW_TRACK_RUNS) % PNW_TRACK_RUNS];
            json_array_append_new(arr, json_pack("{s:f, s:f, s:s}", "start", x->start, "ms", x->ms,
                                                 "result", x->result));
        }
        json_object_set_new(o, class_names[c], arr);
    }
    pthread_mutex_unlock(&t->mu);
    return o;
}

json_t *
pnw_track_take_counters(pnw_track_t *t)
{
    json_t *o = json_object();
    pthread_mutex_lock(&t->mu);
    for (int i = 0; o && i < t->ncounters; i++)
        if (t->counters[i].delta) {
            json_object_set_new(o, t->counters[i].name, json_integer(t->counters[i].delta));
            t->counters[i].delta = 0;
        }
    pthread_mutex_unlock(&t->mu);
    return o;
}

json_t *
pnw_track_disabled_json(pnw_track_t *t, double now)
{
    json_t *o = json_object();
    pthread_mutex_lock(&t->mu);
    for (int i = 0; o && i < SLOTS; i++)
        if (t->slots[i].until > now)
            json_object_set_new(o, t->slots[i].label, json_real(t->slots[i].until));
    pthread_mutex_unlock(&t->mu);
    return o;
}
