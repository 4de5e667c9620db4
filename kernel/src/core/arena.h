/*
 * Region allocator: many small allocations, one free. Every request and every job owns one;
 * deferred cleanups tie non-memory resources (connections, decrefs, fds) to its lifetime.
 * Not thread-safe: an arena belongs to one thread at a time.
 */
#ifndef PNK_ARENA_H
#define PNK_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct pnk_arena pnk_arena_t;

/* A new arena whose first block holds `first_block` bytes (0 means 4 KiB). NULL on ENOMEM. */
pnk_arena_t *pnk_arena_new(size_t first_block);
/* Run the deferred cleanups (last registered first), then free every block. NULL is a no-op. */
void pnk_arena_free(pnk_arena_t *a);

/* 16-byte aligned memory, or NULL when n is absurd or memory is exhausted. */
void *pnk_arena_alloc(pnk_arena_t *a, size_t n);
void *pnk_arena_calloc(pnk_arena_t *a, size_t n, size_t size);
char *pnk_arena_strdup(pnk_arena_t *a, const char *s);
char *pnk_arena_strndup(pnk_arena_t *a, const char *s, size_t n);
void *pnk_arena_memdup(pnk_arena_t *a, const void *src, size_t n);
char *pnk_arena_printf(pnk_arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *pnk_arena_vprintf(pnk_arena_t *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Call fn(arg) when the arena is freed. Returns 0, or -1 on ENOMEM (fn is then not called). */
int pnk_arena_defer(pnk_arena_t *a, void (*fn)(void *), void *arg);

/* Bytes handed out so far (for metrics and tests). */
size_t pnk_arena_used(const pnk_arena_t *a);

#endif
