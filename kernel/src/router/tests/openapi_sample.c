/* A route table exercising every OpenAPI feature, shared by test_openapi.c and openapi_dump.c. */
#include <stdio.h>

#include <powernode/host.h>

#include "../router.h"

pnk_router_t *openapi_sample_router(void);

static int
handler(pn_req_t *req)
{
    (void)req;
    return PN_OK;
}

static const char file_schema[] =
    "{\"type\":\"object\",\"required\":[\"name\"],\"additionalProperties\":false,"
    "\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255,"
    "\"pattern\":\"^[^/]+$\"},\"tags\":{\"type\":\"array\",\"maxItems\":10,\"items\":"
    "{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}},\"parent_id\":{\"type\":[\"string\",\"null\"],"
    "\"format\":\"uuid\"},\"size\":{\"type\":\"integer\",\"minimum\":0},"
    "\"kind\":{\"const\":\"file\",\"description\":\"always file\",\"default\":\"file\"}}}";

static const char file_resp[] =
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"}}}";

static const pn_route_t files_routes[] = {
    {PN_GET, "/api/v1/files", "files.files.read", handler, "List files", 0, NULL, NULL, 0},
    {PN_POST, "/api/v1/files", "files.files.create", handler, "Create a file", 0, file_schema,
     file_resp, 0},
    {PN_GET, "/api/v1/files/:id", "files.files.read", handler, "Show a file", 0, NULL, file_resp,
     0},
    {PN_DELETE, "/api/v1/files/:file_id", "files.files.delete", handler, "Delete a file", 0, NULL,
     NULL, 0},
    {PN_GET, "/api/v1/files/trash", "files.files.read", handler, "List the trash", 0, NULL, NULL,
     0},
    {PN_PUT, "/api/v1/files/:id/content", "files.files.update", handler, "Upload content",
     PN_MIB(512), NULL, NULL, PN_ROUTE_RAW_BODY},
    {PN_GET, "/api/v1/files/:id/versions/:vid", "files.versions.read", handler, "Show a version", 0,
     NULL, NULL, 0},
    {PN_GET, "/share/*token", NULL, handler, "Open a share link", 0, NULL, NULL, PN_ROUTE_PUBLIC},
    {PN_POST, "/api/v1/internal/files/reindex", NULL, handler, "Reindex (worker)", 0, NULL, NULL,
     PN_ROUTE_SERVICE | PN_ROUTE_UNDOCUMENTED},
    {PN_PATCH, "/api/v1/worker/files/:id", NULL, handler, "Worker update", 0, NULL, NULL,
     PN_ROUTE_SERVICE},
    PN_ROUTE_END,
};

static const pn_route_t kernel_routes[] = {
    {PN_GET, "/health", NULL, handler, "Health", 0, NULL, "{\"type\":\"object\"}", PN_ROUTE_PUBLIC},
    {PN_GET, "/", NULL, handler, "Index", 0, NULL, NULL, PN_ROUTE_PUBLIC},
    /* Both give the operationId stem get_api_v1_files_x; the second gets a suffix. */
    {PN_GET, "/api/v1/files-x", "files.files.read", handler, "Dash", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/files_x", "files.files.read", handler, "Underscore", 0, NULL, NULL, 0},
    PN_ROUTE_END,
};

pnk_router_t *
openapi_sample_router(void)
{
    char err[300];
    pnk_router_t *r = pnk_router_new();
    for (const pn_route_t *rt = files_routes; r && rt->path; rt++)
        if (pnk_router_add(r, rt, "files", NULL, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            pnk_router_free(r);
            return NULL;
        }
    for (const pn_route_t *rt = kernel_routes; r && rt->path; rt++)
        if (pnk_router_add(r, rt, "kernel", NULL, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            pnk_router_free(r);
            return NULL;
        }
    return r;
}
