/* Region allocator with deferred cleanups; see arena.h. Not a general-purpose malloc. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16u
#define DEFAULT_BLOCK 4096u
/* A single allocation above this is refused: nothing a request does needs 1 GiB at once, and
 * refusing keeps size arithmetic far from overflow. */
#define MAX_ALLOC ((size_t)1 << 30)

typedef struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} block_t;

typedef struct cleanup {
    struct cleanup *next;
    void (*fn)(void *);
    void *arg;
} cleanup_t;

struct pnk_arena {
    block_t *head;
    cleanup_t *cleanups;
    size_t total;
};

static block_t *
block_new(size_t size)
{
    block_t *b = malloc(sizeof(*b) + size);

    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

pnk_arena_t *
pnk_arena_new(size_t first_block)
{
    pnk_arena_t *a = malloc(sizeof(*a));

    if (a == NULL)
        return NULL;
    a->head = block_new(first_block ? first_block : DEFAULT_BLOCK);
    if (a->head == NULL) {
        free(a);
        return NULL;
    }
    a->cleanups = NULL;
    a->total = 0;
    return a;
}

void
pnk_arena_free(pnk_arena_t *a)
{
    if (a == NULL)
        return;
    /* Cleanups first: they may still read arena memory. */
    while (a->cleanups) {
        cleanup_t *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->arg);
    }
    while (a->head) {
        block_t *b = a->head;
        a->head = b->next;
        free(b);
    }
    free(a);
}

void *
pnk_arena_alloc(pnk_arena_t *a, size_t n)
{
    size_t need;
    block_t *b;

    if (n > MAX_ALLOC)
        return NULL;
    need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    b = a->head;
    if (b->size - b->used < need) {
        size_t size = b->size * 2;
        if (size < need)
            size = need;
        if (size > (size_t)1 << 20 && need <= (size_t)1 << 20)
            size = (size_t)1 << 20;
        block_t *nb = block_new(size);
        if (nb == NULL)
            return NULL;
        /* A big one-off block goes behind the current one so the current one's free space
         * is still used by later small allocations. */
        if (need > b->size && b->size - b->used > 256) {
            nb->next = b->next;
            b->next = nb;
            nb->used = need;
            a->total += need;
            return nb->data;
        }
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *
pnk_arena_calloc(pnk_arena_t *a, size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > MAX_ALLOC / size)
        return NULL;
    p = pnk_arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *
pnk_arena_memdup(pnk_arena_t *a, const void *src, size_t n)
{
    void *p = pnk_arena_alloc(a, n);

    if (p && n)
        memcpy(p, src, n);
    return p;
}

char *
pnk_arena_strndup(pnk_arena_t *a, const char *s, size_t n)
{
    char *p;

    if (s == NULL)
        return NULL;
    if (n == SIZE_MAX)
        return NULL;
    p = pnk_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *
pnk_arena_strdup(pnk_arena_t *a, const char *s)
{
    return s ? pnk_arena_strndup(a, s, strlen(s)) : NULL;
}

char *
pnk_arena_vprintf(pnk_arena_t *a, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *p;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    p = pnk_arena_alloc(a, (size_t)n + 1);
    if (p)
        (void)vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
pnk_arena_printf(pnk_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = pnk_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

int
pnk_arena_defer(pnk_arena_t *a, void (*fn)(void *), void *arg)
{
    cleanup_t *c = pnk_arena_alloc(a, sizeof(*c));

    if (c == NULL)
        return -1;
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

size_t
pnk_arena_used(const pnk_arena_t *a)
{
    return a->total;
}
