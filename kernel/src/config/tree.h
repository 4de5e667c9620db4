/*
 * The parsed YAML file as a tree of mappings, sequences and scalars with 1-based lines.
 * Internal to config: built once by pnk_config_tree_parse, then only read.
 */
#ifndef PNK_CONFIG_TREE_H
#define PNK_CONFIG_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/arena.h"

/* Limits that keep a hostile or broken file from eating the server at start-up. */
#define PNK_CONFIG_MAX_BYTES ((size_t)1 << 20)
#define PNK_CONFIG_MAX_DEPTH 32
#define PNK_CONFIG_MAX_NODES 100000u

typedef enum { PNK_CFG_SCALAR = 1, PNK_CFG_MAP, PNK_CFG_SEQ } pnk_cfg_kind_t;

typedef struct pnk_cfg_node pnk_cfg_node_t;
struct pnk_cfg_node {
    pnk_cfg_kind_t kind;
    int line;
    /* Scalar: the text (never contains NUL). is_null: an unquoted "", "~" or "null". */
    const char *text;
    bool is_null;
    /* Map: n keys (keys[n] is NULL), the line of each key, and the values.
     * Seq: n items in vals. */
    size_t n;
    const char **keys;
    int *key_lines;
    pnk_cfg_node_t **vals;
};

/* Parse one YAML document that must be a mapping (an empty document is an empty mapping).
 * Anchors, aliases and tags are refused; duplicate keys are errors. NULL with
 * "name:line[:column]: problem" in err. Everything lives in arena a. */
pnk_cfg_node_t *pnk_config_tree_parse(pnk_arena_t *a, const char *yaml, size_t len,
                                      const char *name, char *err, size_t errlen);

/* An empty mapping (the tree when there is no file). */
pnk_cfg_node_t *pnk_config_tree_empty(pnk_arena_t *a);

/* The value at a dotted path under map root, or NULL. *key_line (may be NULL) gets the line of
 * the last key. An empty path is the root itself (line 0). */
const pnk_cfg_node_t *pnk_config_tree_find(const pnk_cfg_node_t *root, const char *path,
                                           int *key_line);
/* Index of key in a mapping, or -1. */
long pnk_config_tree_index(const pnk_cfg_node_t *map, const char *key, size_t keylen);

/* "a mapping", "a sequence" or "a scalar", for messages. */
const char *pnk_config_tree_kind_name(const pnk_cfg_node_t *n);

#endif
