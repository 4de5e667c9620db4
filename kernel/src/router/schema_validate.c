/*
 * Validates an instance against a compiled schema. Only reads the tree, so one schema serves
 * every thread; every problem is reported (up to a cap) with its path.
 */
#include "schema_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_MAX_ERRORS 50

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
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
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
                                    pnk_schema_type_names[t]);
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
        (void)snprintf(out, n, "%lld", (long long)json_integer_value(b));
    else
        (void)snprintf(out, n, "%.15g", json_real_value(b));
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
        (void)snprintf(idx, sizeof idx, "%zu", i);
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
