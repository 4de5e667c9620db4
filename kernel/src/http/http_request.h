/*
 * Turning a parsed head into a pnk_http_request_t in its arena. Pure (no I/O) so the fuzzer
 * exercises it together with the parser.
 */
#ifndef PNK_HTTP_REQUEST_H
#define PNK_HTTP_REQUEST_H

#include "http.h"
#include "http_parser.h"

/* Build *out from a head that p parsed to PNK_HTTP_DONE in buf. Everything is copied into a.
 * Returns 0, or an HTTP status (400, 500) with a reason in *err. */
int pnk_http_request_build(pnk_arena_t *a, const pnk_http_parser_t *p, const char *buf,
                           pnk_http_request_t **out, const char **err);

/* pn_method_t bit for a method name, 0 when we do not route it. */
int pnk_http_method_id(const char *m, size_t n);

#endif
