/* Pure input checks and key generation of the identity area: no request, no database. */
#ifndef PNK_IDENTITY_UTIL_H
#define PNK_IDENTITY_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include <powernode/types.h>

#define PNK_IDENTITY_PER_PAGE_DEFAULT 25
#define PNK_IDENTITY_PER_PAGE_MAX 100
#define PNK_IDENTITY_PAGE_MAX 100000

typedef struct pnk_identity_page {
    long page, per_page, offset;
} pnk_identity_page_t;

/* page and per_page from the query (either may be NULL: defaults 1 and 25). Strict decimal,
 * page 1..PNK_IDENTITY_PAGE_MAX, per_page 1..PNK_IDENTITY_PER_PAGE_MAX. PN_OK, or PN_E_INVALID with
 * the offending field name in *field. */
int pnk_identity_page_parse(const char *page, const char *per_page, pnk_identity_page_t *out,
                            const char **field);
/* {"pagination":{"page","per_page","total","total_pages"}} (new reference). */
json_t *pnk_identity_page_meta(const pnk_identity_page_t *pg, long total);

/* A UUID in its 36-character text form (any hex case). */
bool pnk_identity_uuid_ok(const char *s);
/* An RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), T/Z in either case. */
bool pnk_identity_rfc3339_ok(const char *s);
/* A permission name shaped <ns>.<resource>.<verb> (lower case, digits, '_'). */
bool pnk_identity_perm_name_ok(const char *s);

#endif
