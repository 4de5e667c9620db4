/*
 * Compiles a JSON Schema (our draft 2020-12 subset) into a tree of checks once, then validates
 * instances against it. Validation only reads the tree, so one schema serves every thread.
 */
#include "schema.h"

#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_format.h"

/* Deeper schemas are refused at compile time; validation recursion follows the schema. */
#define MAX_SCHEMA_DEPTH 32
#define DEFAULT_MAX_ERRORS 50
#define PATH_MAX_LEN 256

enum {
    T_NULL = 1 << 0,
    T_BOOLEAN = 1 << 1,
    T_OBJECT = 1 << 2,
    T_ARRAY = 1 << 3,
    T_NUMBER = 1 << 4,
    T_STRING = 1 << 5,
    T_INTEGER = 1 << 6,
};

static const char *const type_names[] = {"null",   "boolean", "object", "array",
                                         "number", "string",  "integer"};
#define NTYPES (sizeof type_names / sizeof type_names[0])

typedef struct node node_t;

typedef struct prop {
    const char *name; /* borrowed from the schema document */
    node_t *schema;
} prop_t;

struct node {
    int boolean;    /* -1: an object schema; 0/1: the schema false/true */
    unsigned types; /* 0 = any */
    prop_t *props;
    size_t nprops;
    const char **required;
    size_t nrequired;
    node_t *addl;  /* additionalProperties; NULL = anything */
    node_t *items; /* NULL = anything */
    const json_t *enumv, *constv, *minimum, *maximum;
    long long min_len, max_len, min_items, max_items; /* -1 = unset */
    regex_t re;
    bool has_re;
    pnk_schema_format_t format;
};

struct pnk_schema {
    json_t *doc;
    node_t *root;
};

/* Jansson's iterators take non-const pointers though they only read. */
static json_t *
unconst(const json_t *j)
{
    return (json_t *)(uintptr_t)j;
}

/* ---- compile ---- */

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
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "schema at %s: %s", c->path[0] ? c->path : "(root)", msg);
}

static node_t *compile_node(cctx_t *c, const json_t *j, int depth);

/* Compiles a subschema with "a" (and "a/b") appended to the path shown in errors. */
static node_t *
compile_sub(cctx_t *c, const json_t *j, int depth, const char *a, const char *b)
{
    size_t len = strlen(c->path);
    snprintf(c->path + len, sizeof c->path - len, "%s%s%s%s", len ? "/" : "", a, b ? "/" : "",
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
        while (name && t < NTYPES && strcmp(type_names[t], name) != 0)
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
        snprintf(err, errlen, "schema: no text");
        return NULL;
    }
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc) {
        snprintf(err, errlen, "schema is not valid JSON (line %d, column %d): %s", jerr.line,
                 jerr.column, jerr.text);
        return NULL;
    }
    pnk_schema_t *s = calloc(1, sizeof *s);
    node_t *root = s ? compile_node(&c, doc, 0) : NULL;
    if (!root) {
        if (!s)
            snprintf(err, errlen, "schema: out of memory");
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

/* ---- validate ---- */

typedef struct vctx {
    pnk_schema_error_fn fn;
    void *ud;
    int count, max;
    char path[PATH_MAX_LEN];
    size_t plen;
} vctx_t;

static void report(vctx_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
report(vctx_t *v, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    if (v->count >= v->max)
        return;
    v->count++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (v->fn)
        v->fn(v->ud, v->path, msg);
}

/* Appends one path segment (JSON-pointer escaped, cut when the buffer is full); returns the
 * old length for path_pop. */
static size_t
path_push(vctx_t *v, const char *seg)
{
    size_t old = v->plen, cap = sizeof v->path - 1;
    if (v->plen && v->plen < cap)
        v->path[v->plen++] = '/';
    for (const char *p = seg; *p && v->plen + 2 <= cap; p++) {
        if (*p == '~' || *p == '/') {
            v->path[v->plen++] = '~';
            v->path[v->plen++] = *p == '~' ? '0' : '1';
        } else {
            v->path[v->plen++] = *p;
        }
    }
    v->path[v->plen] = '\0';
    return old;
}

static void
path_pop(vctx_t *v, size_t old)
{
    v->plen = old;
    v->path[old] = '\0';
}

static unsigned
instance_types(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_NULL:
        return T_NULL;
    case JSON_TRUE:
    case JSON_FALSE:
        return T_BOOLEAN;
    case JSON_OBJECT:
        return T_OBJECT;
    case JSON_ARRAY:
        return T_ARRAY;
    case JSON_STRING:
        return T_STRING;
    case JSON_INTEGER:
        return T_NUMBER | T_INTEGER;
    case JSON_REAL: {
        double d = json_real_value(j);
        /* 2020-12: a number with a zero fractional part is an integer. */
        bool integral = d > -9.2e18 && d < 9.2e18 && d == (double)(long long)d;
        return T_NUMBER | (integral ? T_INTEGER : 0);
    }
    }
    return 0;
}

static int
num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    /* long double holds every int64 exactly on the platforms we build for. */
    long double x = json_is_integer(a) ? (long double)json_integer_value(a) : json_real_value(a);
    long double y = json_is_integer(b) ? (long double)json_integer_value(b) : json_real_value(b);
    return (x > y) - (x < y);
}

/* JSON Schema equality: 1 and 1.0 are equal, which json_equal() does not say. */
static bool
json_eq(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return num_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!json_eq(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        const char *k;
        const json_t *va;
        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach(unconst(a), k, va)
        {
            const json_t *vb = json_object_get(b, k);
            if (!vb || !json_eq(va, vb))
                return false;
        }
        return true;
    }
    return json_equal(a, b);
}

static void
type_error(vctx_t *v, unsigned types)
{
    char list[96] = "";
    size_t len = 0, n = 0;
    for (size_t t = 0; t < NTYPES; t++)
        if (types & (1u << t)) {
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", n++ ? ", " : "",
                                    type_names[t]);
            if (len >= sizeof list)
                break;
        }
    if (n == 1)
        report(v, "must be of type %s", list);
    else
        report(v, "must be one of the types %s", list);
}

static void
bound_text(const json_t *b, char *out, size_t n)
{
    if (json_is_integer(b))
        snprintf(out, n, "%lld", (long long)json_integer_value(b));
    else
        snprintf(out, n, "%.15g", json_real_value(b));
}

static void validate(vctx_t *v, const node_t *n, const json_t *j, int depth);

static void
validate_object(vctx_t *v, const node_t *n, const json_t *j, int depth)
{
    const char *key;
    const json_t *val;

    for (size_t i = 0; i < n->nrequired; i++)
        if (!json_object_get(j, n->required[i])) {
            size_t old = path_push(v, n->required[i]);
            report(v, "is required");
            path_pop(v, old);
        }
    json_object_foreach(unconst(j), key, val)
    {
        const node_t *sub = NULL;
        for (size_t i = 0; i < n->nprops && !sub; i++)
            if (strcmp(n->props[i].name, key) == 0)
                sub = n->props[i].schema;
        if (!sub)
            sub = n->addl;
        if (!sub)
            continue;
        size_t old = path_push(v, key);
        if (sub->boolean == 0 && sub == n->addl)
            report(v, "is not an allowed property");
        else
            validate(v, sub, val, depth + 1);
        path_pop(v, old);
        if (v->count >= v->max)
            return;
    }
}

static void
validate_array(vctx_t *v, const node_t *n, const json_t *j, int depth)
{
    size_t size = json_array_size(j);
    if (n->min_items >= 0 && size < (unsigned long long)n->min_items)
        report(v, "must have at least %lld items", n->min_items);
    if (n->max_items >= 0 && size > (unsigned long long)n->max_items)
        report(v, "must have at most %lld items", n->max_items);
    if (!n->items)
        return;
    for (size_t i = 0; i < size && v->count < v->max; i++) {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        size_t old = path_push(v, idx);
        validate(v, n->items, json_array_get(j, i), depth + 1);
        path_pop(v, old);
    }
}

static void
validate_string(vctx_t *v, const node_t *n, const json_t *j)
{
    const char *s = json_string_value(j);
    size_t bytes = json_string_length(j);
    if (n->min_len >= 0 || n->max_len >= 0) {
        size_t cps = pnk_schema_utf8_len(s, bytes);
        if (n->min_len >= 0 && cps < (unsigned long long)n->min_len)
            report(v, "must be at least %lld characters long", n->min_len);
        if (n->max_len >= 0 && cps > (unsigned long long)n->max_len)
            report(v, "must be at most %lld characters long", n->max_len);
    }
    /* regexec stops at a NUL, so a string holding one cannot be checked and fails. */
    if (n->has_re && (strlen(s) != bytes || regexec(&n->re, s, 0, NULL, 0) != 0))
        report(v, "does not match the required pattern");
    if (n->format != PNK_FMT_NONE && !pnk_schema_format_check(n->format, s, bytes))
        report(v, "must be %s", pnk_schema_format_desc(n->format));
}

static void
validate(vctx_t *v, const node_t *n, const json_t *j, int depth)
{
    char b[40];

    if (v->count >= v->max)
        return;
    if (depth > MAX_SCHEMA_DEPTH + 1) {
        report(v, "is nested too deeply");
        return;
    }
    if (n->boolean == 0) {
        report(v, "is not allowed");
        return;
    }
    unsigned t = instance_types(j);
    if (n->types && !(n->types & t)) {
        type_error(v, n->types);
        return; /* the remaining keywords would only repeat the problem */
    }
    if (n->constv && !json_eq(n->constv, j))
        report(v, "must be equal to the allowed constant");
    if (n->enumv) {
        bool found = false;
        for (size_t i = 0; i < json_array_size(n->enumv) && !found; i++)
            found = json_eq(json_array_get(n->enumv, i), j);
        if (!found)
            report(v, "must be one of the allowed values");
    }
    if (t & T_NUMBER) {
        if (n->minimum && num_cmp(j, n->minimum) < 0) {
            bound_text(n->minimum, b, sizeof b);
            report(v, "must be at least %s", b);
        }
        if (n->maximum && num_cmp(j, n->maximum) > 0) {
            bound_text(n->maximum, b, sizeof b);
            report(v, "must be at most %s", b);
        }
    }
    if (t & T_STRING)
        validate_string(v, n, j);
    else if (t & T_OBJECT)
        validate_object(v, n, j, depth);
    else if (t & T_ARRAY)
        validate_array(v, n, j, depth);
}

int
pnk_schema_validate(const pnk_schema_t *s, const json_t *instance, pnk_schema_error_fn on_error,
                    void *ud, int max_errors)
{
    vctx_t v = {.fn = on_error, .ud = ud, .max = max_errors > 0 ? max_errors : DEFAULT_MAX_ERRORS};

    if (!s || !instance) {
        report(&v, "no value to validate");
        return v.count;
    }
    validate(&v, s->root, instance, 0);
    return v.count;
}
