/* Reading a copied result: text accessors and a JSON rendering typed by column OID. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
    OID_JSONB = 3802,
};

int
pnk_rows_count(const pn_rows_t *r)
{
    return r ? r->nrows : 0;
}

int
pnk_rows_columns(const pn_rows_t *r)
{
    return r ? r->ncols : 0;
}

int
pnk_rows_column(const pn_rows_t *r, const char *name)
{
    if (r == NULL || name == NULL)
        return -1;
    for (int j = 0; j < r->ncols; j++)
        if (strcmp(r->names[j], name) == 0)
            return j;
    return -1;
}

const char *
pnk_rows_value(const pn_rows_t *r, int row, int col)
{
    if (r == NULL || row < 0 || col < 0 || row >= r->nrows || col >= r->ncols)
        return NULL;
    return r->values[(size_t)row * (size_t)r->ncols + (size_t)col];
}

static json_t *
integer(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return json_string(s);
    return json_integer((json_int_t)v);
}

/* Floats and numerics as numbers; NaN and infinities have no JSON form and stay strings.
 * A numeric that is a whole number in range stays exact as an integer. */
static json_t *
number(const char *s, bool numeric)
{
    char *end;

    if (numeric && strpbrk(s, ".eE") == NULL) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (!errno && *end == '\0' && end != s)
            return json_integer((json_int_t)v);
    }
    errno = 0;
    double d = strtod(s, &end);
    json_t *j = (*end || end == s) ? NULL : json_real(d);
    return j ? j : json_string(s);
}

static json_t *
value(unsigned type, const char *s)
{
    json_t *j;

    if (s == NULL)
        return json_null();
    switch (type) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        return integer(s);
    case OID_FLOAT4:
    case OID_FLOAT8:
        return number(s, false);
    case OID_NUMERIC:
        return number(s, true);
    case OID_BOOL:
        return json_boolean(s[0] == 't');
    case OID_JSON:
    case OID_JSONB:
        j = json_loads(s, JSON_DECODE_ANY, NULL);
        return j ? j : json_string(s);
    default:
        return json_string(s);
    }
}

json_t *
pnk_rows_json(const pn_rows_t *r)
{
    json_t *arr = json_array();

    if (arr == NULL || r == NULL)
        return arr;
    for (int i = 0; i < r->nrows; i++) {
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
        for (int j = 0; j < r->ncols; j++) {
            json_t *v = value(r->types[j], r->values[(size_t)i * (size_t)r->ncols + (size_t)j]);
            /* json_string refuses invalid UTF-8; such a value becomes null, not a crash. */
            json_object_set_new(o, r->names[j], v ? v : json_null());
        }
    }
    return arr;
}
