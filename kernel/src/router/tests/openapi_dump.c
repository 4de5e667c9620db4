/* Writes the OpenAPI document of the sample route table (to argv[1], or stdout), so that
 * tests/integration/openapi_validate.mjs can check it with a real OpenAPI validator. */
#include <stdio.h>

#include "../openapi.h"

pnk_router_t *openapi_sample_router(void);

int
main(int argc, char **argv)
{
    pnk_router_t *r = openapi_sample_router();
    json_t *doc = r ? pnk_openapi_build(r, "Powernode API", "0.1.0") : NULL;
    int rc = 1;
    if (doc) {
        rc = argc > 1 ? json_dump_file(doc, argv[1], JSON_INDENT(2))
                      : json_dumpf(doc, stdout, JSON_INDENT(2));
        rc = rc == 0 ? 0 : 1;
    }
    if (rc != 0)
        fprintf(stderr, "openapi_dump: could not build or write the document\n");
    json_decref(doc);
    pnk_router_free(r);
    return rc;
}
