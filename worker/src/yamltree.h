/* A small YAML document tree (mappings, sequences, scalars) built with libyaml, with limits. */
#ifndef PNW_YAMLTREE_H
#define PNW_YAMLTREE_H

#include <stddef.h>

typedef enum { PNW_Y_SCALAR, PNW_Y_MAP, PNW_Y_SEQ } pnw_ytype_t;

typedef struct pnw_ynode {
    pnw_ytype_t type;
    int line;
    char *str;              /* scalar value; for map entries, the key */
    struct pnw_ynode *kids; /* map: entries (str = key, first kid = value); seq: items */
    struct pnw_ynode *next;
    int quoted;
} pnw_ynode_t;

/* Parse a whole file; NULL with "file:line: reason" in err. An empty file is an empty map. */
pnw_ynode_t *pnw_yaml_load(const char *path, char *err, size_t errlen);
pnw_ynode_t *pnw_yaml_parse(const unsigned char *buf, size_t len, const char *name, char *err,
                            size_t errlen);
void pnw_yaml_free(pnw_ynode_t *n);

#endif
