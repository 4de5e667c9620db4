/*
 * Builds the config tree from libyaml's event stream. Events (not libyaml's document API) so
 * the depth, node and anchor limits stop a hostile file before it is ever fully expanded.
 */
#include "tree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct entry {
    const char *key;
    int key_line;
    pnk_cfg_node_t *val;
    struct entry *next;
} entry_t;

typedef struct frame {
    pnk_cfg_node_t *node;
    const char *label; /* the key (or "[i]") this node sits under, for messages */
    entry_t *head, *tail;
    size_t count;
    const char *key; /* map only: a key waiting for its value */
    int key_line;
} frame_t;

typedef struct builder {
    pnk_arena_t *a;
    const char *name;
    char *err;
    size_t errlen;
    frame_t stack[PNK_CONFIG_MAX_DEPTH];
    int depth;
    size_t nodes;
    int docs;
    pnk_cfg_node_t *root;
} builder_t;

static void fail(builder_t *b, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(builder_t *b, int line, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(b->err, b->errlen, "%s:%d: ", b->name, line);

    if (k < 0 || (size_t)k >= b->errlen)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(b->err + k, b->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

/* "a.b[2].c": where the current event sits, with `last` appended when not NULL. */
static void
path_of(const builder_t *b, const char *last, char *buf, size_t n)
{
    size_t k = 0;

    buf[0] = '\0';
    for (int i = 1; i <= b->depth; i++) {
        const char *part = i < b->depth ? b->stack[i].label : last;
        if (part == NULL)
            continue;
        int w = snprintf(buf + k, n - k, "%s%s", k > 0 && part[0] != '[' ? "." : "", part);
        if (w < 0 || (size_t)w >= n - k)
            return;
        k += (size_t)w;
    }
}

static int
oom(builder_t *b)
{
    (void)snprintf(b->err, b->errlen, "%s: out of memory while reading the configuration", b->name);
    return -1;
}

static int
count_node(builder_t *b, int line)
{
    if (++b->nodes > PNK_CONFIG_MAX_NODES) {
        fail(b, line, "more than %u nodes", PNK_CONFIG_MAX_NODES);
        return -1;
    }
    return 0;
}

/* Hang node under the innermost open collection (or make it the root). */
static int
attach(builder_t *b, pnk_cfg_node_t *node, const char **label)
{
    *label = NULL;
    if (b->depth == 0) {
        b->root = node;
        return 0;
    }
    frame_t *f = &b->stack[b->depth - 1];
    entry_t *e = pnk_arena_calloc(b->a, 1, sizeof *e);
    if (e == NULL)
        return oom(b);
    if (f->node->kind == PNK_CFG_MAP) {
        e->key = f->key;
        e->key_line = f->key_line;
        f->key = NULL;
        *label = e->key;
    } else {
        *label = pnk_arena_printf(b->a, "[%zu]", f->count);
        if (*label == NULL)
            return oom(b);
    }
    e->val = node;
    if (f->tail)
        f->tail->next = e;
    else
        f->head = e;
    f->tail = e;
    f->count++;
    return 0;
}

static bool
wants_key(const builder_t *b)
{
    if (b->depth == 0)
        return false;
    const frame_t *f = &b->stack[b->depth - 1];
    return f->node->kind == PNK_CFG_MAP && f->key == NULL;
}

/* Anchors and aliases are how "billion laughs" files explode; tags would let a file ask for
 * types we do not have. Neither has a use in a config file. */
static int
refuse_extras(builder_t *b, int line, const yaml_char_t *anchor, const yaml_char_t *tag)
{
    if (anchor != NULL) {
        fail(b, line, "anchors and aliases are not allowed (&%.40s)", (const char *)anchor);
        return -1;
    }
    if (tag != NULL) {
        fail(b, line, "tags are not allowed (%.40s)", (const char *)tag);
        return -1;
    }
    return 0;
}

static bool
plain_null(const char *s, size_t len)
{
    return len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static int
on_scalar(builder_t *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1;
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;

    if (refuse_extras(b, line, ev->data.scalar.anchor, ev->data.scalar.tag) < 0 ||
        count_node(b, line) < 0)
        return -1;
    if (memchr(v, '\0', len) != NULL) {
        fail(b, line, "a value contains a NUL character");
        return -1;
    }
    char *text = pnk_arena_strndup(b->a, v, len);
    if (text == NULL)
        return oom(b);
    if (wants_key(b)) {
        frame_t *f = &b->stack[b->depth - 1];
        f->key = text;
        f->key_line = line;
        return 0;
    }
    pnk_cfg_node_t *n = pnk_arena_calloc(b->a, 1, sizeof *n);
    if (n == NULL)
        return oom(b);
    n->kind = PNK_CFG_SCALAR;
    n->line = line;
    n->text = text;
    n->is_null = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && plain_null(text, len);
    const char *label;
    return attach(b, n, &label);
}

static int
on_start(builder_t *b, const yaml_event_t *ev, pnk_cfg_kind_t kind)
{
    int line = (int)ev->start_mark.line + 1;
    const yaml_char_t *anchor =
        kind == PNK_CFG_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    const yaml_char_t *tag =
        kind == PNK_CFG_MAP ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;

    if (refuse_extras(b, line, anchor, tag) < 0 || count_node(b, line) < 0)
        return -1;
    if (wants_key(b)) {
        fail(b, line, "mapping keys must be plain values, not a %s",
             kind == PNK_CFG_MAP ? "mapping" : "sequence");
        return -1;
    }
    if (b->depth >= PNK_CONFIG_MAX_DEPTH) {
        fail(b, line, "nested deeper than %d levels", PNK_CONFIG_MAX_DEPTH);
        return -1;
    }
    pnk_cfg_node_t *n = pnk_arena_calloc(b->a, 1, sizeof *n);
    if (n == NULL)
        return oom(b);
    n->kind = kind;
    n->line = line;
    const char *label;
    if (attach(b, n, &label) < 0)
        return -1;
    frame_t *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    f->label = label;
    return 0;
}

static int
by_key(const void *x, const void *y, void *ctx)
{
    const char *const *keys = ctx;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    int r = strcmp(keys[i], keys[j]);
    return r != 0 ? r : (i < j ? -1 : i > j);
}

/* Sorting an index beats comparing every pair: a 1 MiB file can hold 100k keys in one map. */
static int
check_duplicates(builder_t *b, const pnk_cfg_node_t *map)
{
    if (map->n < 2)
        return 0;
    size_t *idx = malloc(map->n * sizeof *idx);
    if (idx == NULL)
        return oom(b);
    for (size_t i = 0; i < map->n; i++)
        idx[i] = i;
    qsort_r(idx, map->n, sizeof *idx, by_key, (void *)map->keys);
    size_t dup = SIZE_MAX, first = 0, run = 0;
    for (size_t i = 1; i < map->n; i++) {
        if (strcmp(map->keys[idx[i]], map->keys[idx[run]]) != 0) {
            run = i;
            continue;
        }
        if (i == run + 1 && idx[i] < dup) {
            dup = idx[i];
            first = idx[run];
        }
    }
    free(idx);
    if (dup == SIZE_MAX)
        return 0;
    char path[256];
    path_of(b, map->keys[dup], path, sizeof path);
    fail(b, map->key_lines[dup], "%s: duplicate key (first set on line %d)", path,
         map->key_lines[first]);
    return -1;
}

static int
on_end(builder_t *b)
{
    frame_t *f = &b->stack[b->depth - 1];
    pnk_cfg_node_t *n = f->node;

    n->n = f->count;
    n->vals = pnk_arena_calloc(
        b->a, f->count + 1,
        sizeof *n->vals); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    if (n->vals == NULL)
        return oom(b);
    if (n->kind == PNK_CFG_MAP) {
        n->keys = pnk_arena_calloc(b->a, f->count + 1, sizeof *n->keys);
        n->key_lines = pnk_arena_calloc(b->a, f->count + 1, sizeof *n->key_lines);
        if (n->keys == NULL || n->key_lines == NULL)
            return oom(b);
    }
    size_t i = 0;
    for (const entry_t *e = f->head; e; e = e->next, i++) {
        n->vals[i] = e->val;
        if (n->keys) {
            n->keys[i] = e->key;
            n->key_lines[i] = e->key_line;
        }
    }
    if (n->kind == PNK_CFG_MAP && check_duplicates(b, n) < 0)
        return -1;
    b->depth--;
    return 0;
}

static void
syntax_error(builder_t *b, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR) {
        oom(b);
    } else if (p->error == YAML_READER_ERROR) {
        (void)snprintf(b->err, b->errlen, "%s: %s at byte %zu", b->name,
                       p->problem ? p->problem : "unreadable input", p->problem_offset);
    } else {
        (void)snprintf(b->err, b->errlen, "%s:%zu:%zu: %s%s%s%s", b->name, p->problem_mark.line + 1,
                       p->problem_mark.column + 1, p->problem ? p->problem : "invalid YAML",
                       p->context ? " (" : "", p->context ? p->context : "", p->context ? ")" : "");
    }
}

static int
on_event(builder_t *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1;

    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1) {
            fail(b, line, "only one YAML document is allowed");
            return -1;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        fail(b, line, "anchors and aliases are not allowed (*%.40s)",
             (const char *)ev->data.alias.anchor);
        return -1;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, PNK_CFG_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, PNK_CFG_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth == 0) { /* libyaml pairs every end with a start: never trust it blindly */
            fail(b, line, "an end without a start");
            return -1;
        }
        return on_end(b);
    default:
        return 0;
    }
}

pnk_cfg_node_t *
pnk_config_tree_empty(pnk_arena_t *a)
{
    pnk_cfg_node_t *n = pnk_arena_calloc(a, 1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->kind = PNK_CFG_MAP;
    n->keys = pnk_arena_calloc(a, 1, sizeof *n->keys);
    n->vals = pnk_arena_calloc(
        a, 1, sizeof *n->vals); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    n->key_lines = pnk_arena_calloc(a, 1, sizeof *n->key_lines);
    return n->keys && n->vals && n->key_lines ? n : NULL;
}

pnk_cfg_node_t *
pnk_config_tree_parse(pnk_arena_t *a, const char *yaml, size_t len, const char *name, char *err,
                      size_t errlen)
{
    builder_t b = {.a = a, .name = name, .err = err, .errlen = errlen};
    yaml_parser_t p;
    yaml_event_t ev;
    bool done = false, ok = true;

    if (len > PNK_CONFIG_MAX_BYTES) {
        (void)snprintf(err, errlen, "%s: larger than the limit of %zu bytes", name,
                       PNK_CONFIG_MAX_BYTES);
        return NULL;
    }
    if (!yaml_parser_initialize(&p)) {
        oom(&b);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    while (!done && ok) {
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(&b, &p);
            ok = false;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        ok = on_event(&b, &ev) == 0;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (!ok)
        return NULL;

    if (b.root == NULL || (b.root->kind == PNK_CFG_SCALAR && b.root->is_null)) {
        pnk_cfg_node_t *e = pnk_config_tree_empty(a);
        if (e == NULL)
            oom(&b);
        return e;
    }
    if (b.root->kind != PNK_CFG_MAP) {
        fail(&b, b.root->line, "the top level must be a mapping of settings, not %s",
             pnk_config_tree_kind_name(b.root));
        return NULL;
    }
    return b.root;
}

long
pnk_config_tree_index(const pnk_cfg_node_t *map, const char *key, size_t keylen)
{
    if (map == NULL || map->kind != PNK_CFG_MAP)
        return -1;
    for (size_t i = 0; i < map->n; i++)
        if (strncmp(map->keys[i], key, keylen) == 0 && map->keys[i][keylen] == '\0')
            return (long)i;
    return -1;
}

const pnk_cfg_node_t *
pnk_config_tree_find(const pnk_cfg_node_t *root, const char *path, int *key_line)
{
    const pnk_cfg_node_t *n = root;
    int line = 0;

    if (path == NULL)
        return NULL;
    while (*path != '\0') {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        long i = pnk_config_tree_index(n, path, len);
        if (i < 0)
            return NULL;
        line = n->key_lines[i];
        n = n->vals[i];
        path += len;
        if (*path == '.' && *++path == '\0')
            return NULL; /* "a." names nothing */
    }
    if (key_line)
        *key_line = line;
    return n;
}

const char *
pnk_config_tree_kind_name(const pnk_cfg_node_t *n)
{
    if (n == NULL)
        return "nothing";
    switch (n->kind) {
    case PNK_CFG_MAP:
        return "a mapping";
    case PNK_CFG_SEQ:
        return "a sequence";
    default:
        return "a scalar";
    }
}
