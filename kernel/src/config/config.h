/*
 * Configuration: one YAML file plus environment overrides, checked against declared keys.
 * Kernel sections ("http", "database", ...) and plugin sections ("plugins.<name>") declare
 * their keys as pn_config_key_t tables; anything undeclared under a declared section, a wrong
 * type or an out-of-range value is an error naming file, line and key:
 *   "config/server.yaml:12: plugins.files.max_upload_mb: 0 is below the minimum 1"
 * Precedence, highest first: POWERNODE_<SECTION>_<KEY> (section dots and dashes become '_'),
 * an alias such as DATABASE_URL, the file, the default. An empty environment variable counts
 * as unset; a YAML null in the file (nothing after the colon, "~", "null") counts as not set.
 * Limits: 1 MiB, 32 levels, 100,000 nodes; anchors, aliases, tags and duplicate keys refused.
 * Loaded and declared on the main thread at start-up; read-only (and thread-safe) after.
 */
#ifndef PNK_CONFIG_H
#define PNK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <powernode/host.h>

typedef struct pnk_config pnk_config_t;

/* Parse the file (NULL: no file, defaults and environment only). The top level must be a
 * mapping. Syntax errors name file:line:column. NULL with the reason in err. */
pnk_config_t *pnk_config_load(const char *path, char *err, size_t errlen);
/* Same from a string (tests, fuzzing); name is used in messages. */
pnk_config_t *pnk_config_load_string(const char *yaml, size_t len, const char *name, char *err,
                                     size_t errlen);
void pnk_config_free(pnk_config_t *c);

/* An environment variable that also sets section.key, below POWERNODE_* in precedence
 * (e.g. "database", "url", "DATABASE_URL"). Call before declaring that section. */
int pnk_config_env_alias(pnk_config_t *c, const char *section, const char *key, const char *env);

/*
 * Declare the keys of `section` (dotted, e.g. "http" or "plugins.files"), validate what the
 * file has there, apply environment overrides and defaults, and store typed values.
 * `reserved` is a NULL-terminated list of extra key names allowed in the section without a
 * declaration (read with pnk_config_raw or pnk_config_list: list-valued keys go here), or NULL.
 * A mapping under the section is a sub-section ("plugins" holds "plugins.files"), left to
 * pnk_config_check_unknown since it may be declared later. A section may be declared once.
 * 0, or -1 with "file:line: section.key: problem" in err.
 */
int pnk_config_declare(pnk_config_t *c, const char *section, const pn_config_key_t *keys,
                       size_t elem_size, const char *const *reserved, char *err, size_t errlen);

/* Typed values of declared keys. Asking for an undeclared key is a programming error: it
 * returns 0/false/NULL and logs. Strings live as long as c. */
int64_t pnk_config_int(const pnk_config_t *c, const char *section, const char *key);
bool pnk_config_bool(const pnk_config_t *c, const char *section, const char *key);
double pnk_config_double(const pnk_config_t *c, const char *section, const char *key);
const char *pnk_config_string(const pnk_config_t *c, const char *section, const char *key);

/* The raw scalar at a dotted path ("plugins.files.enabled"), or NULL when absent, null or not
 * a scalar. No environment applied. */
const char *pnk_config_raw(const pnk_config_t *c, const char *path);
/* The file line of a dotted path, or 0 when absent. */
int pnk_config_line(const pnk_config_t *c, const char *path);
/* A list of scalars at a dotted path: a YAML sequence, or a comma-separated scalar. When the
 * environment variable env (may be NULL) is set, its comma-separated value replaces the file.
 * *items is owned by c. 0 (n = 0 when absent), or -1 when the node is neither. */
int pnk_config_list(pnk_config_t *c, const char *path, const char *env, const char *const **items,
                    size_t *n, char *err, size_t errlen);
/* The child keys of a mapping at a dotted path (e.g. the plugin names under "plugins"; NULL
 * path: the top level), in file order, NULL-terminated. 0 (n = 0 when absent), or -1 when the
 * node is not a mapping. */
int pnk_config_keys(const pnk_config_t *c, const char *path, const char *const **keys, size_t *n);

/* Parse a boolean the way config does (true/false/yes/no/on/off/1/0). 0 or -1. */
int pnk_config_parse_bool(const char *s, bool *out);

/* After all sections are declared: every top-level key and every mapping under `plugins`
 * must have been declared (or be listed in `known`, NULL-terminated, as a dotted path or, for
 * plugins, a plugin name), and so must every mapping inside a declared section. The first
 * stray key is reported as "file:line: key: unknown setting", or for a mapping under plugins
 * as "file:line: plugins.<name>: no such plugin is loaded". 0 or -1. */
int pnk_config_check_unknown(const pnk_config_t *c, const char *const *known, char *err,
                             size_t errlen);

/* The file name given to load, or "(defaults)". */
const char *pnk_config_file(const pnk_config_t *c);

#endif
