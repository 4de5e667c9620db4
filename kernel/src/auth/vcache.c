/* The verified-token cache; see vcache.h. */
#include "vcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024 /* at most this many tokens (about 1 KiB each) are remembered */
#define STRIPES 16

typedef struct {
    char *token; /* malloc'd; NULL when empty */
    size_t len;
    pnk_jwt_claims_t claims;
} slot_t;

static slot_t slots[SLOTS];
static pthread_mutex_t locks[STRIPES] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER};

static size_t
slot_of(const char *token, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)token[i]) * 1099511628211ULL;
    return (size_t)(h % SLOTS);
}

bool
pnk_vcache_get(const char *token, int64_t now, pnk_jwt_claims_t *out)
{
    size_t len = strlen(token), i = slot_of(token, len);
    bool hit = false;

    pthread_mutex_lock(&locks[i % STRIPES]);
    slot_t *s = &slots[i];
    if (s->token && s->len == len && memcmp(s->token, token, len) == 0 &&
        s->claims.exp > now - PNK_JWT_LEEWAY && s->claims.nbf <= now + PNK_JWT_LEEWAY &&
        s->claims.iat <= now + PNK_JWT_LEEWAY) {
        *out = s->claims;
        hit = true;
    }
    pthread_mutex_unlock(&locks[i % STRIPES]);
    return hit;
}

void
pnk_vcache_put(const char *token, const pnk_jwt_claims_t *claims)
{
    size_t len = strlen(token), i = slot_of(token, len);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, token, len + 1);

    pthread_mutex_lock(&locks[i % STRIPES]);
    slot_t *s = &slots[i];
    char *old = s->token; /* a collision simply replaces the older token */
    s->token = copy;
    s->len = len;
    s->claims = *claims;
    pthread_mutex_unlock(&locks[i % STRIPES]);
    free(old);
}

void
pnk_vcache_clear(void)
{
    for (size_t i = 0; i < SLOTS; i++) {
        pthread_mutex_lock(&locks[i % STRIPES]);
        free(slots[i].token);
        slots[i].token = NULL;
        pthread_mutex_unlock(&locks[i % STRIPES]);
    }
}
