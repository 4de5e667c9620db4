/* The principal cache and its cross-instance invalidation; see pcache.h. */
#include "pcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../redis/redis.h"

#define BUCKETS 1024
#define MAX_ENTRIES 20000
#define CHANNEL "pn:identity:changed"

typedef struct entry {
    struct entry *next;
    char key[80]; /* "<user>/<account>" */
    double loaded;
    char *email;
    bool all_perms;
    char **perms;
    size_t nperms;
    char *profile; /* JSON text for /auth/me, or NULL until the first call fills it */
} entry_t;

/* An access token found on neither denylist, by jti. */
typedef struct clean {
    struct clean *next;
    char jti[40];
    double checked;
} clean_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t *table[BUCKETS];
static clean_t *cleans[BUCKETS];
static size_t nclean;
static size_t count;
static uint64_t generation; /* bumped by every drop, under lock */
static double ttl;
static atomic_bool subscribed;
static pnk_redis_sub_t *sub;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
entry_free(entry_t *e)
{
    for (size_t i = 0; i < e->nperms; i++)
        free(e->perms[i]);
    free(e->perms);
    free(e->email);
    free(e->profile);
    free(e);
}

static void
drop_cleans_locked(void)
{
    for (size_t b = 0; b < BUCKETS; b++)
        while (cleans[b]) {
            clean_t *c = cleans[b];
            cleans[b] = c->next;
            free(c);
        }
    nclean = 0;
}

static void
clear_locked(void)
{
    generation++;
    drop_cleans_locked();
    for (size_t b = 0; b < BUCKETS; b++)
        while (table[b]) {
            entry_t *e = table[b];
            table[b] = e->next;
            entry_free(e);
        }
    count = 0;
}

void
pnk_pcache_configure(double ttl_seconds)
{
    pthread_mutex_lock(&lock);
    ttl = ttl_seconds;
    clear_locked();
    pthread_mutex_unlock(&lock);
}

static unsigned
hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

/* Off by configuration, or not hearing the broadcast that keeps it fresh. */
static bool
in_use(void)
{
    return ttl > 0 && atomic_load(&subscribed);
}

static bool
make_key(char out[80], const char *user, const char *account)
{
    int n = snprintf(out, 80, "%s/%s", user, account);
    return n > 0 && n < 80;
}

static entry_t *
find_locked(const char *key, double now)
{
    for (entry_t *e = table[hash(key)]; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return now - e->loaded > ttl ? NULL : e;
    return NULL;
}

bool
pnk_pcache_get(const char *user_id, const char *account_id, pnk_arena_t *arena, pnk_principal_t *p)
{
    char key[80];
    bool hit = false;

    if (!in_use() || !make_key(key, user_id, account_id))
        return false;
    double now = now_s();
    pthread_mutex_lock(&lock);
    entry_t *e = find_locked(key, now);
    if (e) {
        p->email = pnk_arena_strdup(arena, e->email);
        p->all_perms = e->all_perms;
        p->nperms = e->nperms;
        p->perms = e->nperms ? pnk_arena_calloc(arena, e->nperms, sizeof(*p->perms)) : NULL;
        hit = p->email != NULL && (e->nperms == 0 || p->perms != NULL);
        for (size_t i = 0; hit && i < e->nperms; i++)
            hit = (p->perms[i] = pnk_arena_strdup(arena, e->perms[i])) != NULL;
    }
    pthread_mutex_unlock(&lock);
    return hit;
}

void
pnk_pcache_put(const char *user_id, const char *account_id, const pnk_principal_t *p)
{
    char key[80];

    if (!in_use() || !make_key(key, user_id, account_id))
        return;
    entry_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return;
    memcpy(e->key, key, sizeof key);
    e->loaded = now_s();
    e->email = strdup(p->email ? p->email : "");
    e->all_perms = p->all_perms;
    e->perms = p->nperms ? calloc(p->nperms, sizeof(*e->perms)) : NULL;
    bool ok = e->email && (p->nperms == 0 || e->perms);
    for (size_t i = 0; ok && i < p->nperms; i++) {
        ok = (e->perms[i] = strdup(p->perms[i])) != NULL;
        e->nperms += ok;
    }
    if (!ok) {
        entry_free(e);
        return;
    }
    pthread_mutex_lock(&lock);
    unsigned b = hash(key);
    /* Replace an older entry for the same key; a full table is simply emptied (entries live
     * seconds, so this only bounds memory under a flood of distinct users). */
    for (entry_t **pp = &table[b]; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->key, key) == 0) {
            entry_t *old = *pp;
            *pp = old->next;
            entry_free(old);
            count--;
            break;
        }
    if (count >= MAX_ENTRIES)
        clear_locked();
    e->next = table[b];
    table[b] = e;
    count++;
    pthread_mutex_unlock(&lock);
}

char *
pnk_pcache_get_profile(const char *user_id, const char *account_id, pnk_arena_t *arena)
{
    char key[80];
    char *out = NULL;

    if (!in_use() || !make_key(key, user_id, account_id))
        return NULL;
    double now = now_s();
    pthread_mutex_lock(&lock);
    entry_t *e = find_locked(key, now);
    if (e && e->profile)
        out = pnk_arena_strdup(arena, e->profile);
    pthread_mutex_unlock(&lock);
    return out;
}

uint64_t
pnk_pcache_generation(void)
{
    pthread_mutex_lock(&lock);
    uint64_t g = generation;
    pthread_mutex_unlock(&lock);
    return g;
}

void
pnk_pcache_put_profile(const char *user_id, const char *account_id, uint64_t gen, const char *json)
{
    char key[80];

    if (!in_use() || !make_key(key, user_id, account_id))
        return;
    char *copy = strdup(json);
    if (copy == NULL)
        return;
    double now = now_s();
    pthread_mutex_lock(&lock);
    entry_t *e = find_locked(key, now);
    /* Not if anything was dropped since the profile was read: it may predate the change. */
    if (e && !e->profile && gen == generation) {
        e->profile = copy;
        copy = NULL;
    }
    pthread_mutex_unlock(&lock);
    free(copy);
}

bool
pnk_pcache_token_clean(const char *jti)
{
    bool hit = false;

    if (!in_use() || strlen(jti) >= sizeof(((clean_t *)0)->jti))
        return false;
    double now = now_s();
    pthread_mutex_lock(&lock);
    for (clean_t *c = cleans[hash(jti)]; c; c = c->next)
        if (strcmp(c->jti, jti) == 0) {
            hit = now - c->checked <= ttl;
            break;
        }
    pthread_mutex_unlock(&lock);
    return hit;
}

void
pnk_pcache_token_put(const char *jti, uint64_t gen)
{
    size_t len = strlen(jti);

    if (!in_use() || len >= sizeof(((clean_t *)0)->jti))
        return;
    clean_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    memcpy(c->jti, jti, len + 1);
    c->checked = now_s();
    unsigned b = hash(jti);
    pthread_mutex_lock(&lock);
    /* Not if anything was revoked since the check began: it may have been this token. */
    if (gen != generation) {
        pthread_mutex_unlock(&lock);
        free(c);
        return;
    }
    for (clean_t **pp = &cleans[b]; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->jti, jti) == 0) {
            clean_t *old = *pp;
            *pp = old->next;
            free(old);
            nclean--;
            break;
        }
    if (nclean >= MAX_ENTRIES)
        drop_cleans_locked(); /* bounded like the principals */
    c->next = cleans[b];
    cleans[b] = c;
    nclean++;
    pthread_mutex_unlock(&lock);
}

/* Drop the entries of one user, in every account. */
static void
drop_user(const char *user_id, size_t len)
{
    pthread_mutex_lock(&lock);
    generation++;
    for (size_t b = 0; b < BUCKETS; b++)
        for (entry_t **pp = &table[b]; *pp;) {
            entry_t *e = *pp;
            if (strncmp(e->key, user_id, len) == 0 && e->key[len] == '/') {
                *pp = e->next;
                entry_free(e);
                count--;
            } else {
                pp = &e->next;
            }
        }
    pthread_mutex_unlock(&lock);
}

static void
drop_all(void)
{
    pthread_mutex_lock(&lock);
    clear_locked();
    pthread_mutex_unlock(&lock);
}

void
pnk_pcache_changed(void)
{
    drop_all();
    if (pnk_redis_publish(CHANNEL, "1", 1) != PN_OK) {
        /* Other instances would keep stale entries until they expire: say so. */
        PNK_WARN("auth", "identity change not broadcast; other instances refresh within %.0fs",
                 ttl);
    }
}

void
pnk_pcache_user_changed(const char *user_id)
{
    size_t len = strlen(user_id);

    drop_user(user_id, len);
    if (pnk_redis_publish(CHANNEL, user_id, len) != PN_OK)
        PNK_WARN("auth", "identity change not broadcast; other instances refresh within %.0fs",
                 ttl);
}

/* "1" empties everything; any other message is the id of the one user who changed. */
static void
on_message(void *ud, const char *channel, const char *msg, size_t len)
{
    (void)ud;
    (void)channel;
    bool one_user = len > 0 && len < 64 && !(len == 1 && msg[0] == '1');
    if (one_user)
        drop_user(msg, len);
    else
        drop_all();
}

int
pnk_pcache_start(char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    if (ttl <= 0)
        return 0;
    sub = pnk_redis_subscribe(CHANNEL, on_message, NULL);
    if (sub == NULL) {
        /* Not fatal: without the subscription the cache is simply not used. */
        PNK_WARN("auth", "principal cache off: cannot subscribe to %s", CHANNEL);
        return 0;
    }
    atomic_store(&subscribed, true);
    return 0;
}

void
pnk_pcache_stop(void)
{
    atomic_store(&subscribed, false);
    if (sub)
        pnk_redis_unsubscribe(sub);
    sub = NULL;
    drop_all();
}
