/* Builds the OpenAPI 3.1 document from the routes actually loaded. */
#ifndef PNK_OPENAPI_H
#define PNK_OPENAPI_H

#include <jansson.h>

#include "router.h"

/* A new OpenAPI 3.1.0 document: paths (":id" written as "{id}", with parameters), one
 * operation per route with summary, tags (the owner), operationId, security (bearer JWT unless
 * public), x-permission, request body schema, the success envelope around resp_schema, and
 * the error envelope for 4xx/5xx. NULL on ENOMEM. */
json_t *pnk_openapi_build(const pnk_router_t *r, const char *title, const char *version);

#endif
