/*
 * Per-connection cache of prepared statements keyed by SQL text, so a statement is parsed
 * and planned once per session and then only bound and executed.
 */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#define NBUCKETS 256u
/* Statements come from code, not input, so a session sees a bounded set; the cap only
 * guards against a caller that builds SQL anyway. */
#define MAX_STMTS 1024u

struct pnk_db_stmt {
    struct pnk_db_stmt *next;
    unsigned hash, id;
    int nparams;
    char sql[];
};

static unsigned
hash_sql(const char *s, int nparams)
{
    unsigned h = 2166136261u ^ (unsigned)nparams;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static pnk_db_stmt_t **
slot_of(pnk_db_conn_t *c, const char *sql, int nparams, unsigned h)
{
    pnk_db_stmt_t **pp = &c->buckets[h % NBUCKETS];

    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->nparams == nparams && strcmp((*pp)->sql, sql) == 0)
            break;
    return pp;
}

unsigned
pnk_db_stmt_find(pnk_db_conn_t *c, const char *sql, int nparams)
{
    if (c->buckets == NULL)
        return 0;
    pnk_db_stmt_t *s = *slot_of(c, sql, nparams, hash_sql(sql, nparams));
    return s ? s->id : 0;
}

bool
pnk_db_stmt_add(pnk_db_conn_t *c, const char *sql, int nparams, unsigned id)
{
    size_t len = strlen(sql);
    unsigned h = hash_sql(sql, nparams);
    pnk_db_stmt_t *s;

    if (c->nstmts >= MAX_STMTS)
        return false;
    if (c->buckets == NULL) {
        c->buckets =
            calloc(NBUCKETS,
                   sizeof(*c->buckets)); /* NOLINT(bugprone-sizeof-expression): array of pointers */
        if (c->buckets == NULL)
            return false;
    }
    s = malloc(sizeof(*s) + len + 1);
    if (s == NULL)
        return false;
    memcpy(s->sql, sql, len + 1);
    s->hash = h;
    s->id = id;
    s->nparams = nparams;
    s->next = c->buckets[h % NBUCKETS];
    c->buckets[h % NBUCKETS] = s;
    c->nstmts++;
    return true;
}

bool
pnk_db_stmt_room(const pnk_db_conn_t *c)
{
    return c->nstmts < MAX_STMTS;
}

void
pnk_db_stmt_forget(pnk_db_conn_t *c, const char *sql, int nparams)
{
    if (c->buckets == NULL)
        return;
    pnk_db_stmt_t **pp = slot_of(c, sql, nparams, hash_sql(sql, nparams));
    pnk_db_stmt_t *s = *pp;
    if (s) {
        *pp = s->next;
        free(s);
        c->nstmts--;
    }
}

void
pnk_db_stmt_clear(pnk_db_conn_t *c)
{
    if (c->buckets == NULL)
        return;
    for (unsigned i = 0; i < NBUCKETS; i++) {
        while (c->buckets[i]) {
            pnk_db_stmt_t *s = c->buckets[i];
            c->buckets[i] = s->next;
            free(s);
        }
    }
    free(c->buckets);
    c->buckets = NULL;
    c->nstmts = 0;
}
