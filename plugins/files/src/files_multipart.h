/*
 * A strict, streaming multipart/form-data parser (RFC 7578 over RFC 2046): bytes go in through
 * any number of files_mp_feed calls, parts come out through callbacks. Pure C, no host calls,
 * so it is unit-tested and fuzzed on its own.
 *
 * Strict means: the body starts with the first delimiter (no preamble), every line ends with
 * CRLF, each part has exactly one "Content-Disposition: form-data; name=..." header, at most
 * FILES_MP_MAX_HEADERS header lines of at most FILES_MP_MAX_HEAD bytes in total, at most
 * FILES_MP_MAX_PARTS parts, and the body ends with the close delimiter. Anything else fails.
 */
#ifndef FILES_MULTIPART_H
#define FILES_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#define FILES_MP_MAX_PARTS 64
#define FILES_MP_MAX_HEAD 8192
#define FILES_MP_MAX_HEADERS 16
#define FILES_MP_MAX_BOUNDARY 70

/* One part's headers. Strings are NUL-terminated and live until the next part begins. */
typedef struct files_mp_part {
    const char *name;         /* form field name (never NULL) */
    const char *filename;     /* filename or filename* (decoded), NULL when absent */
    const char *content_type; /* NULL when absent */
} files_mp_part_t;

/* Each callback returns 0 to go on or non-zero to stop the parse (files_mp_feed then fails
 * with "stopped"). Data of one part may arrive in many pieces; `data` points into the fed
 * buffer or into the parser's own constant delimiter copy, and stays valid until the parser
 * is freed. */
typedef struct files_mp_callbacks {
    int (*on_part)(void *ud, const files_mp_part_t *part);
    int (*on_data)(void *ud, const char *data, size_t len);
    int (*on_part_end)(void *ud);
} files_mp_callbacks_t;

typedef struct files_mp files_mp_t;

/* Copy the boundary parameter of a multipart/form-data Content-Type into out. 0, or -1 when
 * the header is not multipart/form-data with a valid boundary (1..70 chars of RFC 2046's set,
 * not ending in a space). */
int files_mp_boundary(const char *ct, char out[FILES_MP_MAX_BOUNDARY + 1]);

/* A parser for one body; NULL when out of memory or the boundary is invalid. */
files_mp_t *files_mp_new(const char *boundary, const files_mp_callbacks_t *cb, void *ud);
void files_mp_free(files_mp_t *p);
/* Feed bytes. 0, or -1 once the input is invalid (files_mp_error says why; later calls fail). */
int files_mp_feed(files_mp_t *p, const char *buf, size_t len);
/* After the last feed: 0 when the close delimiter was seen, else -1. */
int files_mp_finish(files_mp_t *p);
/* The one-line reason of the first failure, or "" */
const char *files_mp_error(const files_mp_t *p);

#endif
