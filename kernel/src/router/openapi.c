/*
 * Builds the OpenAPI 3.1.0 document from the routes actually registered, so the published API
 * cannot drift from the served one. Schemas are the routes' own JSON Schema (2020-12 subset).
 */
#include "openapi.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "router_int.h"

#define ERROR_REF "#/components/responses/Error"

/* Builders below chain Jansson calls and fold failures into one flag (set_new with a NULL
 * value fails cleanly), so ENOMEM anywhere makes the whole build return NULL. */
static bool
put(json_t *obj, const char *key, json_t *value, bool ok)
{
    return json_object_set_new(obj, key, value) == 0 && ok;
}

static bool
push(json_t *arr, json_t *value, bool ok)
{
    return json_array_append_new(arr, value) == 0 && ok;
}

static json_t *
error_schema(void)
{
    json_t *s =
        json_pack("{s:s, s:[s,s], s:{s:{s:b}, s:{s:s}, s:{s:s, s:{s:s, s:[s,s], s:{s:{s:s}, "
                  "s:{s:s}}}}}}",
                  "type", "object", "required", "success", "error", "properties", "success",
                  "const", 0, "error", "type", "string", "details", "type", "array", "items",
                  "type", "object", "required", "field", "message", "properties", "field", "type",
                  "string", "message", "type", "string");
    return s;
}

static json_t *
components(void)
{
    json_t *c = json_object(), *schemas = json_object(), *responses = json_object();
    bool ok = put(c, "securitySchemes",
                  json_pack("{s:{s:s, s:s, s:s}}", "bearerAuth", "type", "http", "scheme", "bearer",
                            "bearerFormat", "JWT"),
                  true);
    ok = put(schemas, "Error", error_schema(), ok);
    ok = put(responses, "Error",
             json_pack("{s:s, s:{s:{s:{s:s}}}}", "description",
                       "The error envelope; details has one entry per invalid field.", "content",
                       "application/json", "schema", "$ref", "#/components/schemas/Error"),
             ok);
    ok = put(c, "schemas", schemas, ok);
    ok = put(c, "responses", responses, ok);
    if (!ok) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* "/files/{id}" from the parsed pattern. */
static bool
template_of(const pnk_entry_t *e, char *out, size_t n)
{
    size_t len = 0;
    if (e->nsegs == 0)
        return snprintf(out, n, "/") < (int)n;
    for (int i = 0; i < e->nsegs; i++) {
        const char *s = e->segs[i];
        int w = e->kinds[i] == PNK_SEG_LIT ? snprintf(out + len, n - len, "/%s", s)
                                           : snprintf(out + len, n - len, "/{%s}", s + 1);
        if (w < 0 || (size_t)w >= n - len)
            return false;
        len += (size_t)w;
    }
    return true;
}

/* The pattern with parameter names erased: two routes with the same shape share one path
 * item (OpenAPI forbids templates differing only in parameter names). */
static void
shape_of(const pnk_entry_t *e, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < e->nsegs && len < n; i++) {
        const char *s = e->kinds[i] == PNK_SEG_LIT     ? e->segs[i]
                        : e->kinds[i] == PNK_SEG_PARAM ? ":"
                                                       : "*";
        int w = snprintf(out + len, n - len, "/%s", s);
        if (w < 0)
            return;
        len += (size_t)w;
    }
}

static json_t *
operation_id(const pnk_entry_t *e, json_t *used)
{
    char id[512], try[540];
    size_t len = 0;
    const char *m = pnk_method_name((int)e->route.method);

    for (; *m && len < 16; m++)
        id[len++] = (char)tolower((unsigned char)*m);
    for (int i = 0; i < e->nsegs && len + 4 < sizeof id - 1; i++) {
        const char *s = e->segs[i];
        id[len++] = '_';
        if (e->kinds[i] != PNK_SEG_LIT) {
            memcpy(id + len, "by_", 3);
            len += 3;
            s++;
        }
        for (; *s && len < sizeof id - 1; s++)
            id[len++] = isalnum((unsigned char)*s) ? *s : '_';
    }
    id[len] = '\0';
    (void)snprintf(try, sizeof try, "%s", id);
    for (int k = 2; json_object_get(used, try); k++)
        (void)snprintf(try, sizeof try, "%s_%d", id, k);
    if (json_object_set_new(used, try, json_true()) != 0)
        return NULL;
    return json_string(try);
}

static json_t *
parameters(const pnk_entry_t *shape)
{
    json_t *params = json_array();
    bool ok = params != NULL;
    for (int i = 0; i < shape->nsegs; i++) {
        if (shape->kinds[i] == PNK_SEG_LIT)
            continue;
        json_t *p = json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", shape->segs[i] + 1, "in", "path",
                              "required", 1, "schema", "type", "string");
        if (shape->kinds[i] == PNK_SEG_REST)
            ok = put(p, "description", json_string("The rest of the path; may contain '/'."), ok);
        ok = push(params, p, ok);
    }
    if (!ok) {
        json_decref(params);
        return NULL;
    }
    return params;
}

static json_t *
schema_copy(const pnk_schema_t *s)
{
    return s ? json_deep_copy(pnk_schema_json(s)) : json_object();
}

static json_t *
request_body(const pnk_route_t *rt)
{
    int m = (int)rt->method;
    bool has_body = m == PN_POST || m == PN_PUT || m == PN_PATCH || m == PN_DELETE;

    if (rt->flags & PN_ROUTE_RAW_BODY)
        return has_body ? json_pack("{s:b, s:{s:{}}}", "required", 1, "content",
                                    "application/octet-stream")
                        : NULL;
    if (!rt->req_schema && !has_body)
        return NULL;
    return json_pack("{s:b, s:{s:{s:o}}}", "required", rt->req_schema != NULL, "content",
                     "application/json", "schema", schema_copy(rt->req_schema));
}

static json_t *
responses(const pnk_route_t *rt)
{
    json_t *envelope = json_pack("{s:s, s:[s,s], s:{s:{s:b}, s:o, s:{s:s}}}", "type", "object",
                                 "required", "success", "data", "properties", "success", "const", 1,
                                 "data", schema_copy(rt->resp_schema), "meta", "type", "object");
    json_t *r =
        json_pack("{s:{s:s, s:{s:{s:o}}}}", "2XX", "description", "Success: the data envelope.",
                  "content", "application/json", "schema", envelope);
    bool ok = r != NULL;
    if (!(rt->flags & PN_ROUTE_PUBLIC))
        ok = put(r, "401", json_pack("{s:s}", "$ref", ERROR_REF), ok);
    if (rt->perm)
        ok = put(r, "403", json_pack("{s:s}", "$ref", ERROR_REF), ok);
    if (rt->req_schema)
        ok = put(r, "422", json_pack("{s:s}", "$ref", ERROR_REF), ok);
    ok = put(r, "4XX", json_pack("{s:s}", "$ref", ERROR_REF), ok);
    ok = put(r, "5XX", json_pack("{s:s}", "$ref", ERROR_REF), ok);
    if (!ok) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static json_t *
operation(const pnk_entry_t *e, const pnk_entry_t *shape, json_t *used)
{
    const pnk_route_t *rt = &e->route;
    json_t *op = json_object();
    bool ok = put(op, "summary", json_string(rt->summary), op != NULL);

    ok = put(op, "operationId", operation_id(e, used), ok);
    ok = put(op, "tags", json_pack("[s]", rt->owner), ok);
    if (shape->nparams)
        ok = put(op, "parameters", parameters(shape), ok);
    json_t *body = request_body(rt);
    if (body)
        ok = put(op, "requestBody", body, ok);
    ok = put(op, "responses", responses(rt), ok);
    if (rt->flags & PN_ROUTE_PUBLIC)
        ok = put(op, "security", json_array(), ok);
    else
        ok = put(op, "security", json_pack("[{s:[]}]", "bearerAuth"), ok);
    if (rt->perm)
        ok = put(op, "x-permission", json_string(rt->perm), ok);
    if (rt->flags & PN_ROUTE_SERVICE)
        ok = put(op, "x-service-only", json_true(), ok);
    if (!ok) {
        json_decref(op);
        return NULL;
    }
    return op;
}

static bool
add_route(json_t *doc, json_t *shapes, json_t *used, json_t *tags, const pnk_router_t *r, size_t i)
{
    const pnk_entry_t *e = pnk_router_entry_of(r, pnk_router_at(r, i));
    char shape[1200], tmpl[1200], lower[16];
    size_t si;

    shape_of(e, shape, sizeof shape);
    json_t *known = json_object_get(shapes, shape);
    if (known) {
        si = (size_t)json_integer_value(known);
    } else {
        si = i;
        if (json_object_set_new(shapes, shape, json_integer((json_int_t)i)) != 0)
            return false;
    }
    const pnk_entry_t *canon = pnk_router_entry_of(r, pnk_router_at(r, si));
    if (!template_of(canon, tmpl, sizeof tmpl))
        return false;
    json_t *paths = json_object_get(doc, "paths");
    json_t *item = json_object_get(paths, tmpl);
    if (!item && json_object_set_new(paths, tmpl, item = json_object()) != 0)
        return false;

    const char *m = pnk_method_name((int)e->route.method);
    size_t k = 0;
    for (; m[k] && k < sizeof lower - 1; k++)
        lower[k] = (char)tolower((unsigned char)m[k]);
    lower[k] = '\0';
    if (json_object_set_new(item, lower, operation(e, canon, used)) != 0)
        return false;
    return json_object_get(tags, e->route.owner) ||
           json_object_set_new(tags, e->route.owner, json_true()) == 0;
}

json_t *
pnk_openapi_build(const pnk_router_t *r, const char *title, const char *version)
{
    json_t *doc =
        json_pack("{s:s, s:{s:s, s:s}, s:{}}", "openapi", "3.1.0", "info", "title",
                  title ? title : "Powernode API", "version", version ? version : "0", "paths");
    json_t *shapes = json_object(), *used = json_object(), *tags = json_object();
    bool ok = doc && shapes && used && tags;

    for (size_t i = 0; ok && i < pnk_router_count(r); i++) {
        if (pnk_router_at(r, i)->flags & PN_ROUTE_UNDOCUMENTED)
            continue;
        ok = add_route(doc, shapes, used, tags, r, i);
    }
    json_t *tag_list = json_array();
    const char *name;
    json_t *v;
    json_object_foreach(tags, name, v) ok = push(tag_list, json_pack("{s:s}", "name", name), ok);
    ok = put(doc, "tags", tag_list, ok);
    ok = put(doc, "components", components(), ok);
    json_decref(shapes);
    json_decref(used);
    json_decref(tags);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
