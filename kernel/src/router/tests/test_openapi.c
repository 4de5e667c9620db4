/* The OpenAPI document: paths, operations, parameters, security, bodies, envelopes. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "../openapi.h"

void register_openapi_tests(void);
pnk_router_t *openapi_sample_router(void);

static json_t *
op(json_t *doc, const char *path, const char *method)
{
    return json_object_get(json_object_get(json_object_get(doc, "paths"), path), method);
}

static const char *
str_at(json_t *j, const char *k1, const char *k2)
{
    return json_string_value(json_object_get(k2 ? json_object_get(j, k1) : j, k2 ? k2 : k1));
}

static void
test_openapi_paths_and_operations(void)
{
    pnk_router_t *r = openapi_sample_router();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    json_t *doc = pnk_openapi_build(r, "Powernode API", "1.2.3");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);

    CU_ASSERT_STRING_EQUAL(str_at(doc, "openapi", NULL), "3.1.0");
    CU_ASSERT_STRING_EQUAL(str_at(doc, "info", "title"), "Powernode API");
    CU_ASSERT_STRING_EQUAL(str_at(doc, "info", "version"), "1.2.3");

    json_t *paths = json_object_get(doc, "paths");
    /* 14 routes, one undocumented; /files/:id and /files/:file_id share a path item. */
    CU_ASSERT_EQUAL(json_object_size(paths), 11);
    CU_ASSERT_PTR_NULL(json_object_get(paths, "/api/v1/internal/files/reindex"));
    CU_ASSERT_PTR_NULL(json_object_get(paths, "/api/v1/files/{file_id}"));
    CU_ASSERT_PTR_NOT_NULL(op(doc, "/api/v1/files", "get"));
    CU_ASSERT_PTR_NOT_NULL(op(doc, "/api/v1/files", "post"));
    CU_ASSERT_PTR_NOT_NULL(op(doc, "/api/v1/files/{id}", "get"));
    CU_ASSERT_PTR_NOT_NULL(op(doc, "/api/v1/files/{id}", "delete"));
    CU_ASSERT_PTR_NOT_NULL(op(doc, "/api/v1/files/trash", "get"));
    CU_ASSERT_PTR_NOT_NULL(op(doc, "/share/{token}", "get"));
    CU_ASSERT_PTR_NOT_NULL(op(doc, "/", "get"));

    json_t *show = op(doc, "/api/v1/files/{id}/versions/{vid}", "get");
    CU_ASSERT_PTR_NOT_NULL_FATAL(show);
    CU_ASSERT_STRING_EQUAL(str_at(show, "summary", NULL), "Show a version");
    CU_ASSERT_STRING_EQUAL(str_at(show, "x-permission", NULL), "files.versions.read");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(show, "tags"), 0)),
                           "files");
    json_t *params = json_object_get(show, "parameters");
    CU_ASSERT_EQUAL(json_array_size(params), 2);
    json_t *p1 = json_array_get(params, 1);
    CU_ASSERT_STRING_EQUAL(str_at(p1, "name", NULL), "vid");
    CU_ASSERT_STRING_EQUAL(str_at(p1, "in", NULL), "path");
    CU_ASSERT_TRUE(json_is_true(json_object_get(p1, "required")));
    CU_ASSERT_STRING_EQUAL(str_at(p1, "schema", "type"), "string");

    /* The DELETE registered as :file_id is documented under the shared {id} template. */
    json_t *del = op(doc, "/api/v1/files/{id}", "delete");
    CU_ASSERT_STRING_EQUAL(
        str_at(json_array_get(json_object_get(del, "parameters"), 0), "name", NULL), "id");

    /* Operation ids are unique. */
    json_t *ids = json_object();
    const char *path, *method;
    json_t *item, *o;
    size_t nops = 0;
    json_object_foreach(paths, path, item) json_object_foreach(item, method, o)
    {
        const char *id = str_at(o, "operationId", NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(id);
        CU_ASSERT_PTR_NULL(json_object_get(ids, id));
        json_object_set_new(ids, id, json_true());
        nops++;
    }
    CU_ASSERT_EQUAL(nops, 13);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(ids, "get_api_v1_files_by_id"));
    CU_ASSERT_PTR_NOT_NULL(json_object_get(ids, "get_api_v1_files_x"));
    CU_ASSERT_PTR_NOT_NULL(json_object_get(ids, "get_api_v1_files_x_2"));
    json_decref(ids);

    json_t *tags = json_object_get(doc, "tags");
    CU_ASSERT_EQUAL(json_array_size(tags), 2);
    json_decref(doc);
    pnk_router_free(r);
}

static void
test_openapi_security_bodies_and_envelopes(void)
{
    pnk_router_t *r = openapi_sample_router();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    json_t *doc = pnk_openapi_build(r, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);

    json_t *scheme = json_object_get(
        json_object_get(json_object_get(doc, "components"), "securitySchemes"), "bearerAuth");
    CU_ASSERT_STRING_EQUAL(str_at(scheme, "type", NULL), "http");
    CU_ASSERT_STRING_EQUAL(str_at(scheme, "scheme", NULL), "bearer");
    CU_ASSERT_STRING_EQUAL(str_at(scheme, "bearerFormat", NULL), "JWT");

    json_t *list = op(doc, "/api/v1/files", "get");
    json_t *sec = json_object_get(list, "security");
    CU_ASSERT_EQUAL(json_array_size(sec), 1);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(json_array_get(sec, 0), "bearerAuth"));
    CU_ASSERT_PTR_NULL(json_object_get(list, "requestBody"));

    json_t *share = op(doc, "/share/{token}", "get");
    CU_ASSERT_TRUE(json_is_array(json_object_get(share, "security")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(share, "security")), 0);
    CU_ASSERT_PTR_NULL(json_object_get(share, "x-permission"));
    CU_ASSERT_PTR_NULL(json_object_get(json_object_get(share, "responses"), "401"));

    json_t *worker = op(doc, "/api/v1/worker/files/{id}", "patch");
    CU_ASSERT_EQUAL(json_array_size(json_object_get(worker, "security")), 1);
    CU_ASSERT_TRUE(json_is_true(json_object_get(worker, "x-service-only")));

    /* The request schema is the route's schema, under application/json. */
    json_t *create = op(doc, "/api/v1/files", "post");
    json_t *body = json_object_get(create, "requestBody");
    CU_ASSERT_TRUE(json_is_true(json_object_get(body, "required")));
    json_t *schema = json_object_get(
        json_object_get(json_object_get(body, "content"), "application/json"), "schema");
    CU_ASSERT_STRING_EQUAL(str_at(schema, "type", NULL), "object");
    CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(schema, "properties"), "parent_id"));
    json_t *responses = json_object_get(create, "responses");
    CU_ASSERT_STRING_EQUAL(str_at(responses, "422", "$ref"), "#/components/responses/Error");
    CU_ASSERT_STRING_EQUAL(str_at(responses, "4XX", "$ref"), "#/components/responses/Error");
    CU_ASSERT_STRING_EQUAL(str_at(responses, "403", "$ref"), "#/components/responses/Error");
    json_t *ok_schema = json_object_get(
        json_object_get(json_object_get(json_object_get(responses, "2XX"), "content"),
                        "application/json"),
        "schema");
    json_t *props = json_object_get(ok_schema, "properties");
    CU_ASSERT_TRUE(json_is_true(json_object_get(json_object_get(props, "success"), "const")));
    CU_ASSERT_STRING_EQUAL(
        str_at(json_object_get(json_object_get(props, "data"), "properties"), "id", "format"),
        "uuid");

    json_t *upload = op(doc, "/api/v1/files/{id}/content", "put");
    json_t *content = json_object_get(json_object_get(upload, "requestBody"), "content");
    CU_ASSERT_PTR_NOT_NULL(json_object_get(content, "application/octet-stream"));
    CU_ASSERT_PTR_NULL(json_object_get(content, "application/json"));

    json_t *error =
        json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Error");
    json_t *eprops = json_object_get(error, "properties");
    CU_ASSERT_TRUE(json_is_false(json_object_get(json_object_get(eprops, "success"), "const")));
    CU_ASSERT_STRING_EQUAL(str_at(eprops, "error", "type"), "string");
    CU_ASSERT_PTR_NOT_NULL(json_object_get(
        json_object_get(json_object_get(json_object_get(eprops, "details"), "items"), "properties"),
        "field"));
    json_decref(doc);
    pnk_router_free(r);
}

static void
test_openapi_empty_router(void)
{
    pnk_router_t *r = pnk_router_new();
    json_t *doc = pnk_openapi_build(r, "T", "1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(json_object_size(json_object_get(doc, "paths")), 0);
    json_decref(doc);
    pnk_router_free(r);
}

void
register_openapi_tests(void)
{
    CU_pSuite s = CU_add_suite("openapi", NULL, NULL);
    CU_add_test(s, "paths_and_operations", test_openapi_paths_and_operations);
    CU_add_test(s, "security_bodies_and_envelopes", test_openapi_security_bodies_and_envelopes);
    CU_add_test(s, "empty_router", test_openapi_empty_router);
}
