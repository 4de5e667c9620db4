/*
 * The compiled form of a schema, shared by schema.c (compile) and schema_validate.c.
 * Not for use outside kernel/src/router.
 */
#ifndef PNK_SCHEMA_INT_H
#define PNK_SCHEMA_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "schema.h"
#include "schema_format.h"

/* Deeper schemas are refused at compile time; validation recursion follows the schema. */
#define MAX_SCHEMA_DEPTH 32
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

/* Names of the T_* bits, in bit order. */
extern const char *const pnk_schema_type_names[];
#define NTYPES 7

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
static inline json_t *
unconst(const json_t *j)
{
    return (json_t *)(uintptr_t)j;
}

#endif
