/*
 * Loading the file, reading it by dotted path (raw values, lines, lists, keys) and the final
 * check for settings nobody declared. Declared sections and typed values are in declare.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"

static const char *const no_items[] = {NULL};

static void err_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
err_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static pnk_config_t *
config_new(const char *name)
{
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_config_t *c = a ? pnk_arena_calloc(a, 1, sizeof *c) : NULL;

    if (c == NULL) {
        pnk_arena_free(a);
        return NULL;
    }
    c->arena = a;
    if (name && (c->file = pnk_arena_strdup(a, name)) == NULL) {
        pnk_arena_free(a);
        return NULL;
    }
    return c;
}

pnk_config_t *
pnk_config_load_string(const char *yaml, size_t len, const char *name, char *err, size_t errlen)
{
    char dummy[1];

    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (name == NULL)
        name = "(string)";
    if (yaml == NULL && len > 0) {
        err_set(err, errlen, "%s: no text given", name);
        return NULL;
    }
    pnk_config_t *c = config_new(name);
    if (c == NULL) {
        err_set(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    c->root = pnk_config_tree_parse(c->arena, yaml ? yaml : "", len, name, err, errlen);
    if (c->root == NULL) {
        pnk_config_free(c);
        return NULL;
    }
    return c;
}

/* The whole file, refusing anything above the size limit even if it grows while we read. */
static char *
slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        err_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        err_set(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((size_t)st.st_size > PNK_CONFIG_MAX_BYTES) {
        err_set(err, errlen, "%s: larger than the limit of %zu bytes", path, PNK_CONFIG_MAX_BYTES);
        close(fd);
        return NULL;
    }
    size_t cap = PNK_CONFIG_MAX_BYTES + 1, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        err_set(err, errlen, "%s: out of memory", path);
        close(fd);
        return NULL;
    }
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err_set(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > PNK_CONFIG_MAX_BYTES) {
        err_set(err, errlen, "%s: larger than the limit of %zu bytes", path, PNK_CONFIG_MAX_BYTES);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

pnk_config_t *
pnk_config_load(const char *path, char *err, size_t errlen)
{
    if (path == NULL) {
        pnk_config_t *c = config_new(NULL);
        if (c && (c->root = pnk_config_tree_empty(c->arena)) == NULL) {
            pnk_config_free(c);
            c = NULL;
        }
        if (c == NULL)
            err_set(err, errlen, "config: out of memory");
        return c;
    }
    size_t len;
    char *text = slurp(path, &len, err, errlen);
    if (text == NULL)
        return NULL;
    pnk_config_t *c = pnk_config_load_string(text, len, path, err, errlen);
    free(text);
    return c;
}

void
pnk_config_free(pnk_config_t *c)
{
    if (c)
        pnk_arena_free(c->arena);
}

const char *
pnk_config_file(const pnk_config_t *c)
{
    return c && c->file ? c->file : "(defaults)";
}

const char *
pnk_config_raw(const pnk_config_t *c, const char *path)
{
    const pnk_cfg_node_t *n = c ? pnk_config_tree_find(c->root, path, NULL) : NULL;

    return n && n->kind == PNK_CFG_SCALAR && !n->is_null ? n->text : NULL;
}

int
pnk_config_line(const pnk_config_t *c, const char *path)
{
    int line = 0;

    if (c == NULL || path == NULL || *path == '\0' ||
        pnk_config_tree_find(c->root, path, &line) == NULL)
        return 0;
    return line;
}

int
pnk_config_keys(const pnk_config_t *c, const char *path, const char *const **keys, size_t *n)
{
    const pnk_cfg_node_t *node = NULL;

    *keys = no_items;
    *n = 0;
    if (c == NULL)
        return -1;
    node = path ? pnk_config_tree_find(c->root, path, NULL) : c->root;
    if (node == NULL || (node->kind == PNK_CFG_SCALAR && node->is_null))
        return 0;
    if (node->kind != PNK_CFG_MAP)
        return -1;
    *keys = node->keys;
    *n = node->n;
    return 0;
}

/* Adds the trimmed, non-empty pieces of a comma-separated text to out. */
static int
split(pnk_arena_t *a, const char *text, const char **out, size_t *n)
{
    const char *p = text;

    for (;;) {
        const char *end = strchr(p, ',');
        const char *stop = end ? end : p + strlen(p);
        while (p < stop && (*p == ' ' || *p == '\t'))
            p++;
        while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if (stop > p && (out[(*n)++] = pnk_arena_strndup(a, p, (size_t)(stop - p))) == NULL)
            return -1;
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

static size_t
commas(const char *s)
{
    size_t k = 0;

    for (; *s; s++)
        k += *s == ',';
    return k;
}

int
pnk_config_list(pnk_config_t *c, const char *path, const char *env, const char *const **items,
                size_t *n, char *err, size_t errlen)
{
    const char *envval = env ? getenv(env) : NULL;
    const pnk_cfg_node_t *node;
    int line = 0;
    size_t cap = 0, k = 0;

    *items = no_items;
    *n = 0;
    if (c == NULL || path == NULL) {
        err_set(err, errlen, "config: list called without a config or path");
        return -1;
    }
    node = pnk_config_tree_find(c->root, path, &line);
    if (envval && *envval) {
        cap = commas(envval) + 1;
    } else if (node == NULL || (node->kind == PNK_CFG_SCALAR && node->is_null)) {
        return 0;
    } else if (node->kind == PNK_CFG_SCALAR) {
        cap = commas(node->text) + 1;
    } else if (node->kind == PNK_CFG_SEQ) {
        cap = node->n;
        for (size_t i = 0; i < node->n; i++) {
            if (node->vals[i]->kind != PNK_CFG_SCALAR) {
                err_set(err, errlen, "%s:%d: %s: list items must be single values, found %s",
                        c->file, node->vals[i]->line, path,
                        pnk_config_tree_kind_name(node->vals[i]));
                return -1;
            }
        }
    } else {
        err_set(err, errlen, "%s:%d: %s: expected a list, found %s", c->file, line, path,
                pnk_config_tree_kind_name(node));
        return -1;
    }

    const char **out = pnk_arena_calloc(c->arena, cap + 1, sizeof *out);
    int rc = out ? 0 : -1;
    if (rc == 0 && envval && *envval) {
        rc = split(c->arena, envval, out, &k);
    } else if (rc == 0 && node->kind == PNK_CFG_SCALAR) {
        rc = split(c->arena, node->text, out, &k);
    } else {
        /* Items of a YAML sequence are whole values: "a, b" as one item stays one item. */
        for (size_t i = 0; rc == 0 && i < node->n; i++) {
            const pnk_cfg_node_t *it = node->vals[i];
            const char *s = it->text, *e = s + strlen(s);
            while (*s == ' ' || *s == '\t')
                s++;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (it->is_null || e == s)
                continue;
            if ((out[k++] = pnk_arena_strndup(c->arena, s, (size_t)(e - s))) == NULL)
                rc = -1;
        }
    }
    if (rc < 0) {
        err_set(err, errlen, "%s: out of memory", path);
        return -1;
    }
    *items = out;
    *n = k;
    return 0;
}

static bool
listed(const char *const *list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* 2: path is a declared section; 1: a declared section lies below it; 0: neither. */
static int
declared_as(const pnk_config_t *c, const char *path)
{
    size_t len = strlen(path);
    int found = 0;

    for (const cfg_section_t *s = c->sections; s; s = s->next) {
        if (strcmp(s->name, path) == 0)
            return 2;
        if (strncmp(s->name, path, len) == 0 && s->name[len] == '.')
            found = 1;
    }
    return found;
}

static bool
declared_key(const cfg_section_t *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->values[i].key, key) == 0)
            return true;
    return listed(s->reserved, key);
}

/* Walks the mappings that lead to or sit in declared sections; everything else in them must
 * be declared. Recursion follows declared section names, so it is shallow. */
static int
check_map(const pnk_config_t *c, const pnk_cfg_node_t *map, const char *path,
          const char *const *known, char *err, size_t errlen)
{
    const cfg_section_t *self = path ? pnk_config_section_find(c, path, strlen(path)) : NULL;
    bool plugins = path && strcmp(path, "plugins") == 0;

    for (size_t i = 0; i < map->n; i++) {
        const pnk_cfg_node_t *v = map->vals[i];
        const char *key = map->keys[i];
        char cp[256];
        int w =
            path ? snprintf(cp, sizeof cp, "%s.%s", path, key) : snprintf(cp, sizeof cp, "%s", key);
        bool fits = w >= 0 && (size_t)w < sizeof cp;

        if (strchr(key, '.') != NULL) {
            err_set(err, errlen, "%s:%d: %.200s: a key may not contain '.'; nest the mapping",
                    c->file, map->key_lines[i], cp);
            return -1;
        }
        if (fits && (listed(known, cp) || (plugins && listed(known, key))))
            continue;
        int kind = fits ? declared_as(c, cp) : 0;
        if (kind > 0) {
            if (v->kind == PNK_CFG_MAP && check_map(c, v, cp, known, err, errlen) < 0)
                return -1;
            continue;
        }
        /* Scalars and lists of a declared section were checked by pnk_config_declare. */
        if (self && (v->kind != PNK_CFG_MAP || declared_key(self, key)))
            continue;
        if (plugins && v->kind == PNK_CFG_MAP) {
            err_set(err, errlen, "%s:%d: plugins.%.64s: no such plugin is loaded", c->file,
                    map->key_lines[i], key);
            return -1;
        }
        if (plugins)
            continue;
        err_set(err, errlen, "%s:%d: %.200s: unknown setting", c->file, map->key_lines[i], cp);
        return -1;
    }
    return 0;
}

int
pnk_config_check_unknown(const pnk_config_t *c, const char *const *known, char *err, size_t errlen)
{
    if (c == NULL) {
        err_set(err, errlen, "config: check_unknown called without a config");
        return -1;
    }
    return check_map(c, c->root, NULL, known, err, errlen);
}
