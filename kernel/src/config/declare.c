/*
 * Declared sections: checks a key table against the file, applies the environment, aliases and
 * defaults, and keeps typed values for the getters (which only read, so any thread may call).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "config_internal.h"
#include "value.h"

#define MAX_SECTION 128
#define MAX_KEY 64
/* A table this long is a missing PN_CONFIG_END, not a real plugin. */
#define MAX_KEYS 4096

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

static bool
valid_section(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > MAX_SECTION || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '.' && s[i + 1] == '.')
            return false;
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= '0' && ch <= '9') && ch != '_' && ch != '-' &&
            ch != '.')
            return false;
    }
    return true;
}

static bool
valid_key(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > MAX_KEY || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9') && s[i] != '_')
            return false;
    return true;
}

/* POWERNODE_<SECTION>_<KEY>: dots and dashes become '_', all upper case. */
static void
env_name(const char *section, const char *key, char *buf, size_t n)
{
    int k = snprintf(buf, n, "POWERNODE_%s_%s", section, key);

    for (int i = 0; i < k && (size_t)i < n; i++) {
        if (buf[i] == '.' || buf[i] == '-')
            buf[i] = '_';
        else
            buf[i] = (char)toupper((unsigned char)buf[i]);
    }
}

const cfg_section_t *
pnk_config_section_find(const pnk_config_t *c, const char *name, size_t len)
{
    for (const cfg_section_t *s = c ? c->sections : NULL; s; s = s->next)
        if (strncmp(s->name, name, len) == 0 && s->name[len] == '\0')
            return s;
    return NULL;
}

int
pnk_config_env_alias(pnk_config_t *c, const char *section, const char *key, const char *env)
{
    if (c == NULL || section == NULL || key == NULL || env == NULL || env[0] == '\0')
        return -1;
    if (pnk_config_section_find(c, section, strlen(section)) != NULL) {
        PNK_ERROR("config", "section=%s key=%s env=%s problem=\"alias after declaration\"", section,
                  key, env);
        return -1;
    }
    cfg_alias_t *al = pnk_arena_calloc(c->arena, 1, sizeof *al);
    if (al == NULL)
        return -1;
    al->section = pnk_arena_strdup(c->arena, section);
    al->key = pnk_arena_strdup(c->arena, key);
    al->env = pnk_arena_strdup(c->arena, env);
    if (al->section == NULL || al->key == NULL || al->env == NULL)
        return -1;
    /* Append: the first alias given for a key wins. */
    cfg_alias_t **p = &c->aliases;
    while (*p)
        p = &(*p)->next;
    *p = al;
    return 0;
}

/* Entry i of a table whose elements are elem_size bytes: a shorter (older) struct reads as
 * zeros past its end, a longer (newer) one is cut to what this kernel knows. */
static void
key_at(const pn_config_key_t *keys, size_t elem_size, size_t i, pn_config_key_t *out)
{
    const unsigned char *p = (const unsigned char *)keys + i * elem_size;

    memset(out, 0, sizeof *out);
    memcpy(out, p, elem_size < sizeof *out ? elem_size : sizeof *out);
}

static bool
bounded(const pn_config_key_t *k)
{
    return !(k->min == 0 && k->max == 0);
}

/* Checks the table itself: mistakes here are the programmer's, not the operator's. */
static int
check_table(const char *section, const pn_config_key_t *keys, size_t elem_size, size_t *count,
            char *err, size_t errlen)
{
    pn_config_key_t k, other;
    size_t n = 0;

    for (;; n++) {
        if (n == MAX_KEYS) {
            err_set(err, errlen, "%s: more than %d keys declared (missing PN_CONFIG_END?)", section,
                    MAX_KEYS);
            return -1;
        }
        key_at(keys, elem_size, n, &k);
        if (k.key == NULL)
            break;
        if (!valid_key(k.key)) {
            err_set(err, errlen, "%s: declared key \"%.64s\" is not a valid name ([a-z][a-z0-9_]*)",
                    section, k.key);
            return -1;
        }
        if (k.type < PN_CFG_INT || k.type > PN_CFG_DOUBLE) {
            err_set(err, errlen, "%s.%s: declared with unknown type %d", section, k.key,
                    (int)k.type);
            return -1;
        }
        if (bounded(&k) && k.type != PN_CFG_STRING && k.type != PN_CFG_BOOL && !(k.min <= k.max)) {
            err_set(err, errlen, "%s.%s: declared with a minimum above its maximum", section,
                    k.key);
            return -1;
        }
        for (size_t j = 0; j < n; j++) {
            key_at(keys, elem_size, j, &other);
            if (strcmp(other.key, k.key) == 0) {
                err_set(err, errlen, "%s.%s: declared twice", section, k.key);
                return -1;
            }
        }
    }
    *count = n;
    return 0;
}

/* The section's mapping in the file (NULL when absent or empty), or -1 when something on the
 * way is not a mapping. *line: the line of the section's own key, or 0. */
static int
section_node(const pnk_config_t *c, const char *section, const pnk_cfg_node_t **out, int *line,
             char *err, size_t errlen)
{
    const pnk_cfg_node_t *n = c->root;
    const char *p = section;

    *out = NULL;
    *line = 0;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        long i = pnk_config_tree_index(n, p, len);
        if (i < 0)
            return 0;
        *line = n->key_lines[i];
        n = n->vals[i];
        if (n->kind == PNK_CFG_SCALAR && n->is_null)
            return 0;
        if (n->kind != PNK_CFG_MAP) {
            err_set(err, errlen, "%s:%d: %.*s: expected a mapping of settings, found %s", c->file,
                    *line, (int)(p + len - section), section, pnk_config_tree_kind_name(n));
            return -1;
        }
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    *out = n;
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

static bool
declared_key(const pn_config_key_t *keys, size_t elem_size, size_t n, const char *s)
{
    pn_config_key_t k;

    for (size_t i = 0; i < n; i++) {
        key_at(keys, elem_size, i, &k);
        if (strcmp(k.key, s) == 0)
            return true;
    }
    return false;
}

/* Where a value came from, for the message prefix. */
typedef struct origin {
    const char *env; /* set for an environment variable */
    const char *file;
    int line; /* file line, or 0 */
    bool is_default;
} origin_t;

static int bad(const origin_t *o, const char *section, const char *key, char *err, size_t errlen,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
bad(const origin_t *o, const char *section, const char *key, char *err, size_t errlen,
    const char *fmt, ...)
{
    va_list ap;
    int k;

    if (err == NULL || errlen == 0)
        return -1;
    if (o->env)
        k = snprintf(err, errlen, "environment %s: %s.%s: ", o->env, section, key);
    else if (o->is_default)
        k = snprintf(err, errlen, "built-in default of %s.%s: ", section, key);
    else if (o->file && o->line > 0)
        k = snprintf(err, errlen, "%s:%d: %s.%s: ", o->file, o->line, section, key);
    else if (o->file)
        k = snprintf(err, errlen, "%s: %s.%s: ", o->file, section, key);
    else
        k = snprintf(err, errlen, "%s.%s: ", section, key);
    if (k < 0 || (size_t)k >= errlen)
        return -1;
    va_start(ap, fmt);
    (void)vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

/* The offending text in quotes, cut short so a pasted secret does not fill the log. */
static const char *
quoted(const char *s, char *buf, size_t n)
{
    size_t len = strlen(s);

    if (len > 40)
        (void)snprintf(buf, n, "\"%.40s...\"", s);
    else
        (void)snprintf(buf, n, "\"%s\"", s);
    return buf;
}

/* below: which bound the value broke. */
static int
out_of_range(bool below, const pn_config_key_t *k, const char *shown, const origin_t *o,
             const char *section, char *err, size_t errlen)
{
    char lim[40];

    pnk_config_value_fmt(below ? k->min : k->max, lim, sizeof lim);
    return bad(o, section, k->key, err, errlen, "%s is %s the %s %s", shown,
               below ? "below" : "above", below ? "minimum" : "maximum", lim);
}

static int
convert(pnk_config_t *c, const char *section, const pn_config_key_t *k, const char *text,
        const origin_t *o, cfg_value_t *out, char *err, size_t errlen)
{
    char q[64], shown[40];

    switch (k->type) {
    case PN_CFG_INT: {
        bool overflow;
        if (pnk_config_value_int(text, &out->v.i, &overflow) < 0)
            return bad(o, section, k->key, err, errlen,
                       overflow ? "%s is out of the 64-bit integer range" : "%s is not an integer",
                       quoted(text, q, sizeof q));
        (void)snprintf(shown, sizeof shown, "%" PRId64, out->v.i);
        /* long double holds every int64 exactly, so the bounds compare without rounding. */
        long double x = (long double)out->v.i;
        if (bounded(k) && (x < (long double)k->min || x > (long double)k->max))
            return out_of_range(x < (long double)k->min, k, shown, o, section, err, errlen);
        return 0;
    }
    case PN_CFG_DOUBLE:
        if (pnk_config_value_double(text, &out->v.d) < 0)
            return bad(o, section, k->key, err, errlen, "%s is not a finite number",
                       quoted(text, q, sizeof q));
        pnk_config_value_fmt(out->v.d, shown, sizeof shown);
        if (bounded(k) && (out->v.d < k->min || out->v.d > k->max))
            return out_of_range(out->v.d < k->min, k, shown, o, section, err, errlen);
        return 0;
    case PN_CFG_BOOL:
        if (pnk_config_parse_bool(text, &out->v.b) < 0)
            return bad(o, section, k->key, err, errlen, "%s is not a boolean (use true or false)",
                       quoted(text, q, sizeof q));
        return 0;
    default: {
        /* Strings may be secrets: report their length, never their text. */
        size_t len = strlen(text);
        if (k->max > 0 && (double)len > k->max) {
            pnk_config_value_fmt(k->max, shown, sizeof shown);
            return bad(o, section, k->key, err, errlen,
                       "the value is %zu characters long, above the maximum %s", len, shown);
        }
        out->v.s = pnk_arena_strdup(c->arena, text);
        if (out->v.s == NULL)
            return bad(o, section, k->key, err, errlen, "out of memory");
        return 0;
    }
    }
}

/* Picks the value of one key by precedence and converts it. */
static int
resolve(pnk_config_t *c, const char *section, const pn_config_key_t *k, const pnk_cfg_node_t *node,
        int section_line, cfg_value_t *out, char *err, size_t errlen)
{
    char env[256];
    const char *text = NULL, *alias_env = NULL;
    origin_t o = {.file = c->file};

    out->key = pnk_arena_strdup(c->arena, k->key);
    out->type = k->type;
    if (out->key == NULL)
        return bad(&o, section, k->key, err, errlen, "out of memory");

    env_name(section, k->key, env, sizeof env);
    /* An empty variable counts as unset: "FOO=" in a compose file means "not given". */
    text = getenv(env);
    if (text && *text) {
        o.env = env;
        return convert(c, section, k, text, &o, out, err, errlen);
    }
    for (const cfg_alias_t *al = c->aliases; al; al = al->next) {
        if (strcmp(al->section, section) != 0 || strcmp(al->key, k->key) != 0)
            continue;
        if (alias_env == NULL)
            alias_env = al->env;
        text = getenv(al->env);
        if (text && *text) {
            o.env = al->env;
            return convert(c, section, k, text, &o, out, err, errlen);
        }
    }

    o.line = section_line;
    long i = node ? pnk_config_tree_index(node, k->key, strlen(k->key)) : -1;
    if (i >= 0) {
        const pnk_cfg_node_t *v = node->vals[i];
        o.line = node->key_lines[i];
        if (v->kind != PNK_CFG_SCALAR)
            return bad(&o, section, k->key, err, errlen, "expected a single value, found %s",
                       pnk_config_tree_kind_name(v));
        if (!v->is_null) {
            o.line = v->line;
            return convert(c, section, k, v->text, &o, out, err, errlen);
        }
    }
    if (k->def != NULL) {
        o.is_default = true;
        return convert(c, section, k, k->def, &o, out, err, errlen);
    }
    return bad(&o, section, k->key, err, errlen,
               "required setting is missing (set it in the file or with %s%s%s)", env,
               alias_env ? " or " : "", alias_env ? alias_env : "");
}

static const char *const *
copy_list(pnk_arena_t *a, const char *const *list)
{
    size_t n = 0;

    while (list && list[n])
        n++;
    const char **out = pnk_arena_calloc(a, n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if ((out[i] = pnk_arena_strdup(a, list[i])) == NULL)
            return NULL;
    return out;
}

int
pnk_config_declare(pnk_config_t *c, const char *section, const pn_config_key_t *keys,
                   size_t elem_size, const char *const *reserved, char *err, size_t errlen)
{
    size_t n;
    const pnk_cfg_node_t *node;
    int line;

    if (c == NULL || section == NULL || keys == NULL) {
        err_set(err, errlen, "config: declare called without a config, section or keys");
        return -1;
    }
    if (!valid_section(section)) {
        err_set(err, errlen, "config: \"%.128s\" is not a valid section name", section);
        return -1;
    }
    if (elem_size < offsetof(pn_config_key_t, type) + sizeof keys->type || elem_size > PN_KIB(4)) {
        err_set(err, errlen, "%s: element size %zu is not a pn_config_key_t", section, elem_size);
        return -1;
    }
    if (pnk_config_section_find(c, section, strlen(section)) != NULL) {
        err_set(err, errlen, "%s: section declared twice", section);
        return -1;
    }
    if (check_table(section, keys, elem_size, &n, err, errlen) < 0 ||
        section_node(c, section, &node, &line, err, errlen) < 0)
        return -1;

    /* Stray keys, in file order. Mappings are sub-sections ("plugins" holds "plugins.files"),
     * which may be declared later: pnk_config_check_unknown judges them. */
    for (size_t i = 0; node && i < node->n; i++) {
        const char *key = node->keys[i];
        if (node->vals[i]->kind == PNK_CFG_MAP || declared_key(keys, elem_size, n, key) ||
            listed(reserved, key))
            continue;
        err_set(err, errlen, "%s:%d: %s.%.64s: unknown setting", c->file, node->key_lines[i],
                section, key);
        return -1;
    }

    cfg_section_t *s = pnk_arena_calloc(c->arena, 1, sizeof *s);
    cfg_value_t *values = pnk_arena_calloc(c->arena, n + 1, sizeof *values);
    if (s == NULL || values == NULL || (s->name = pnk_arena_strdup(c->arena, section)) == NULL ||
        (s->reserved = copy_list(c->arena, reserved)) == NULL) {
        err_set(err, errlen, "%s: out of memory", section);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        pn_config_key_t k;
        key_at(keys, elem_size, i, &k);
        if (resolve(c, section, &k, node, line, &values[i], err, errlen) < 0)
            return -1;
    }
    s->values = values;
    s->n = n;
    if (c->last_section)
        c->last_section->next = s;
    else
        c->sections = s;
    c->last_section = s;
    return 0;
}

/* The declared value, or NULL (logged: reading an undeclared key is a bug in the caller). */
static const cfg_value_t *
lookup(const pnk_config_t *c, const char *section, const char *key, pn_cfg_type_t type)
{
    const cfg_section_t *s = section ? pnk_config_section_find(c, section, strlen(section)) : NULL;

    for (size_t i = 0; s && key && i < s->n; i++) {
        if (strcmp(s->values[i].key, key) != 0)
            continue;
        if (s->values[i].type == type)
            return &s->values[i];
        break;
    }
    PNK_ERROR("config", "section=%s key=%s problem=\"read but not declared with this type\"",
              section ? section : "(null)", key ? key : "(null)");
    return NULL;
}

int64_t
pnk_config_int(const pnk_config_t *c, const char *section, const char *key)
{
    const cfg_value_t *v = lookup(c, section, key, PN_CFG_INT);
    return v ? v->v.i : 0;
}

bool
pnk_config_bool(const pnk_config_t *c, const char *section, const char *key)
{
    const cfg_value_t *v = lookup(c, section, key, PN_CFG_BOOL);
    return v ? v->v.b : false;
}

double
pnk_config_double(const pnk_config_t *c, const char *section, const char *key)
{
    const cfg_value_t *v = lookup(c, section, key, PN_CFG_DOUBLE);
    return v ? v->v.d : 0.0;
}

const char *
pnk_config_string(const pnk_config_t *c, const char *section, const char *key)
{
    const cfg_value_t *v = lookup(c, section, key, PN_CFG_STRING);
    return v ? v->v.s : NULL;
}
