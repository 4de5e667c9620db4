/*
 * Compiles a JSON Schema (our draft 2020-12 subset) into a tree of checks, once, at route
 * registration. Validation is in schema_validate.c.
 */
#include "schema_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pnk_schema_type_names[NTYPES] = {"null",   "boolean", "object", "array",
                                                   "number", "string",  "integer"};

typedef struct cctx {
    char path[PATH_MAX_LEN];
    char *err;
    size_t errlen;
} cctx_t;

static void
node_free(node_t *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nprops; i++)
        node_free(n->props[i].schema);
    free(n->props);
    free((void *)n->required);
    node_free(n->addl);
    node_free(n->items);
    if (n->has_re)
        regfree(&n->re);
    free(n);
}

static void cerr(cctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
cerr(cctx_t *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (void)snprintf(c->err, c->errlen, "schema at %s: %s", c->path[0] ? c->path : "(root)", msg);
}

static node_t *compile_node(cctx_t *c, const json_t *j, int depth);

/* Compiles a subschema with "a" (and "a/b") appended to the path shown in errors. */
static node_t *
compile_sub(cctx_t *c, const json_t *j, int depth, const char *a, const char *b)
{
    size_t len = strlen(c->path);
    (void)snprintf(c->path + len, sizeof c->path - len, "%s%s%s%s", len ? "/" : "", a, b ? "/" : "",
                   b ? b : "");
    node_t *n = compile_node(c, j, depth + 1);
    if (n)
        c->path[len] = '\0';
    return n;
}

static int
count_kw(cctx_t *c, const char *kw, const json_t *v, long long *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        cerr(c, "%s must be a non-negative integer", kw);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

static int
kw_type(cctx_t *c, node_t *n, const json_t *v)
{
    const json_t *one = v;
    size_t count = json_is_array(v) ? json_array_size(v) : 1;
    if (json_is_array(v) && count == 0) {
        cerr(c, "type must not be an empty array");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (json_is_array(v))
            one = json_array_get(v, i);
        const char *name = json_string_value(one);
        size_t t = 0;
        while (name && t < NTYPES && strcmp(pnk_schema_type_names[t], name) != 0)
            t++;
        if (!name || t == NTYPES) {
            cerr(c, "type must be one of null, boolean, object, array, number, string, integer, "
                    "or an array of them");
            return -1;
        }
        if (n->types & (1u << t)) {
            cerr(c, "type lists \"%s\" twice", name);
            return -1;
        }
        n->types |= 1u << t;
    }
    return 0;
}

static int
kw_properties(cctx_t *c, node_t *n, const json_t *v, int depth)
{
    const char *key;
    const json_t *sub;
    if (!json_is_object(v)) {
        cerr(c, "properties must be an object");
        return -1;
    }
    n->props = calloc(json_object_size(v) + 1, sizeof *n->props);
    if (!n->props) {
        cerr(c, "out of memory");
        return -1;
    }
    json_object_foreach(unconst(v), key, sub)
    {
        node_t *s = compile_sub(c, sub, depth, "properties", key);
        if (!s)
            return -1;
        n->props[n->nprops].name = key;
        n->props[n->nprops++].schema = s;
    }
    return 0;
}

static int
kw_required(cctx_t *c, node_t *n, const json_t *v)
{
    size_t count = json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_array(v)) {
        cerr(c, "required must be an array of strings");
        return -1;
    }
    n->required = calloc(count + 1, sizeof *n->required);
    if (!n->required) {
        cerr(c, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const char *name = json_string_value(json_array_get(v, i));
        if (!name) {
            cerr(c, "required must be an array of strings");
            return -1;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(n->required[k], name) == 0) {
                cerr(c, "required lists \"%s\" twice", name);
                return -1;
            }
        n->required[n->nrequired++] = name;
    }
    return 0;
}

static int
kw_pattern(cctx_t *c, node_t *n, const json_t *v)
{
    const char *re = json_string_value(v);
    if (!re) {
        cerr(c, "pattern must be a string");
        return -1;
    }
    int rc = regcomp(&n->re, re, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, &n->re, why, sizeof why);
        cerr(c, "pattern is not a valid POSIX extended regular expression: %s", why);
        return -1;
    }
    n->has_re = true;
    return 0;
}

static int
kw_format(cctx_t *c, node_t *n, const json_t *v)
{
    const char *name = json_string_value(v);
    n->format = name ? pnk_schema_format_parse(name) : PNK_FMT_NONE;
    if (n->format == PNK_FMT_NONE) {
        cerr(c, "format must be one of uuid, email, date-time, uri");
        return -1;
    }
    return 0;
}

/* One keyword of an object schema; -1 with the error written. */
static int
compile_kw(cctx_t *c, node_t *n, const char *kw, const json_t *v, int depth)
{
    if (!strcmp(kw, "type"))
        return kw_type(c, n, v);
    if (!strcmp(kw, "properties"))
        return kw_properties(c, n, v, depth);
    if (!strcmp(kw, "required"))
        return kw_required(c, n, v);
    if (!strcmp(kw, "additionalProperties"))
        return (n->addl = compile_sub(c, v, depth, kw, NULL)) ? 0 : -1;
    if (!strcmp(kw, "items")) {
        if (json_is_array(v)) {
            cerr(c, "items must be a schema (the array form is prefixItems, not supported)");
            return -1;
        }
        return (n->items = compile_sub(c, v, depth, kw, NULL)) ? 0 : -1;
    }
    if (!strcmp(kw, "enum")) {
        if (!json_is_array(v) || json_array_size(v) == 0) {
            cerr(c, "enum must be a non-empty array");
            return -1;
        }
        n->enumv = v;
        return 0;
    }
    if (!strcmp(kw, "const")) {
        n->constv = v;
        return 0;
    }
    if (!strcmp(kw, "minLength"))
        return count_kw(c, kw, v, &n->min_len);
    if (!strcmp(kw, "maxLength"))
        return count_kw(c, kw, v, &n->max_len);
    if (!strcmp(kw, "minItems"))
        return count_kw(c, kw, v, &n->min_items);
    if (!strcmp(kw, "maxItems"))
        return count_kw(c, kw, v, &n->max_items);
    if (!strcmp(kw, "minimum") || !strcmp(kw, "maximum")) {
        if (!json_is_number(v)) {
            cerr(c, "%s must be a number", kw);
            return -1;
        }
        if (!strcmp(kw, "minimum"))
            n->minimum = v;
        else
            n->maximum = v;
        return 0;
    }
    if (!strcmp(kw, "pattern"))
        return kw_pattern(c, n, v);
    if (!strcmp(kw, "format"))
        return kw_format(c, n, v);
    if (!strcmp(kw, "description") || !strcmp(kw, "title") || !strcmp(kw, "$comment")) {
        if (!json_is_string(v)) {
            cerr(c, "%s must be a string", kw);
            return -1;
        }
        return 0;
    }
    if (!strcmp(kw, "default") || !strcmp(kw, "examples"))
        return 0; /* annotations */
    if (!strcmp(kw, "$schema")) {
        const char *uri = json_string_value(v);
        if (!uri || strcmp(uri, "https://json-schema.org/draft/2020-12/schema") != 0) {
            cerr(c, "$schema must be https://json-schema.org/draft/2020-12/schema");
            return -1;
        }
        return 0;
    }
    cerr(c, "unknown keyword \"%s\"", kw);
    return -1;
}

static node_t *
compile_node(cctx_t *c, const json_t *j, int depth)
{
    const char *kw;
    const json_t *v;

    if (depth > MAX_SCHEMA_DEPTH) {
        cerr(c, "nested deeper than %d levels", MAX_SCHEMA_DEPTH);
        return NULL;
    }
    if (!json_is_object(j) && !json_is_boolean(j)) {
        cerr(c, "a schema must be an object or a boolean");
        return NULL;
    }
    node_t *n = calloc(1, sizeof *n);
    if (!n) {
        cerr(c, "out of memory");
        return NULL;
    }
    n->boolean = json_is_boolean(j) ? json_is_true(j) : -1;
    n->min_len = n->max_len = n->min_items = n->max_items = -1;
    json_object_foreach(unconst(j), kw, v)
    {
        if (compile_kw(c, n, kw, v, depth) < 0) {
            node_free(n);
            return NULL;
        }
    }
    return n;
}

pnk_schema_t *
pnk_schema_compile(const char *text, char *err, size_t errlen)
{
    json_error_t jerr;
    cctx_t c = {.err = err, .errlen = errlen};

    if (!text) {
        (void)snprintf(err, errlen, "schema: no text");
        return NULL;
    }
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc) {
        (void)snprintf(err, errlen, "schema is not valid JSON (line %d, column %d): %s", jerr.line,
                       jerr.column, jerr.text);
        return NULL;
    }
    pnk_schema_t *s = calloc(1, sizeof *s);
    node_t *root = s ? compile_node(&c, doc, 0) : NULL;
    if (!root) {
        if (!s)
            (void)snprintf(err, errlen, "schema: out of memory");
        free(s);
        json_decref(doc);
        return NULL;
    }
    s->doc = doc;
    s->root = root;
    return s;
}

void
pnk_schema_free(pnk_schema_t *s)
{
    if (!s)
        return;
    node_free(s->root);
    json_decref(s->doc);
    free(s);
}

json_t *
pnk_schema_json(const pnk_schema_t *s)
{
    return s ? s->doc : NULL;
}
