/*
 * A JSON Schema validator for request bodies: the subset of draft 2020-12 listed in
 * powernode/host.h (pn_route_t.req_schema). Schemas are compiled once at route registration;
 * validation is thread-safe and reports every problem, not just the first.
 */
#ifndef PNK_SCHEMA_H
#define PNK_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

typedef struct pnk_schema pnk_schema_t;

/* Compile schema text. Unknown keywords, wrong keyword types and bad regexes are errors, so a
 * typo in a plugin's schema fails at start-up rather than silently accepting everything.
 * NULL with a one-line reason in err. */
pnk_schema_t *pnk_schema_compile(const char *text, char *err, size_t errlen);
void pnk_schema_free(pnk_schema_t *s);

/* The schema as JSON (borrowed; lives with s), for the OpenAPI document. */
json_t *pnk_schema_json(const pnk_schema_t *s);

/* One validation problem: where (a JSON-pointer-like path, "" for the root, "name",
 * "items/3/id") and what, in a sentence without the offending value. */
typedef void (*pnk_schema_error_fn)(void *ud, const char *where, const char *message);

/* Validate; calls on_error for each problem, at most max_errors times (0 = 50). Returns the
 * number of problems found (0 = valid). */
int pnk_schema_validate(const pnk_schema_t *s, const json_t *instance, pnk_schema_error_fn on_error,
                        void *ud, int max_errors);

#endif
