/*
 * Decoding of untrusted input before it reaches a handler: JSON bodies with a depth limit,
 * query strings and percent-encoding. Pure functions, fuzzed (tests/fuzz).
 */
#ifndef PNK_DECODE_H
#define PNK_DECODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../core/arena.h"

/* Parse a JSON text of len bytes. Refuses nesting deeper than max_depth (checked before
 * Jansson sees it), NUL bytes, invalid UTF-8, duplicate keys, and anything after the value.
 * Returns the value (new reference) or NULL with a one-line reason (with line/column where
 * useful) in err. */
json_t *pnk_json_decode(const char *buf, size_t len, int max_depth, char *err, size_t errlen);

/* Percent-decode n bytes into the arena ('+' stays '+' unless plus_as_space). NULL for a
 * malformed escape, or a decoded NUL byte. */
char *pnk_percent_decode(pnk_arena_t *a, const char *s, size_t n, bool plus_as_space);

typedef struct pnk_query_pair {
    const char *key, *value; /* decoded; value "" for "k" or "k=" */
} pnk_query_pair_t;

/* Split and decode an application/x-www-form-urlencoded string ('+' is a space). At most
 * max_pairs pairs (extra ones are an error). 0, or -1 for malformed input or too many pairs;
 * *pairs is arena memory. */
int pnk_query_parse(pnk_arena_t *a, const char *query, size_t max_pairs, pnk_query_pair_t **pairs,
                    size_t *npairs);

#endif
