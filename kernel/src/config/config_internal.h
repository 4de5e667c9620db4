/*
 * The config object shared by config.c (file, paths, lists, stray keys) and declare.c
 * (declared sections, environment, typed getters). Internal to this folder.
 */
#ifndef PNK_CONFIG_INTERNAL_H
#define PNK_CONFIG_INTERNAL_H

#include "../core/arena.h"
#include "config.h"
#include "tree.h"

typedef struct cfg_alias {
    const char *section, *key, *env;
    struct cfg_alias *next;
} cfg_alias_t;

typedef struct cfg_value {
    const char *key;
    pn_cfg_type_t type;
    union {
        int64_t i;
        double d;
        bool b;
        const char *s;
    } v;
} cfg_value_t;

typedef struct cfg_section {
    const char *name;
    cfg_value_t *values;
    size_t n;
    const char *const *reserved; /* NULL-terminated, never NULL */
    struct cfg_section *next;
} cfg_section_t;

struct pnk_config {
    pnk_arena_t *arena; /* everything below lives here */
    const char *file;
    pnk_cfg_node_t *root;
    cfg_alias_t *aliases;
    cfg_section_t *sections, *last_section;
};

/* The declared section called name, or NULL. */
const cfg_section_t *pnk_config_section_find(const pnk_config_t *c, const char *name, size_t len);

#endif
