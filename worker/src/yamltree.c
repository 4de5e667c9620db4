/* Builds a plain tree from libyaml's event stream; anchors and aliases are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yamltree.h"

#define MAX_DEPTH 16
#define MAX_NODES 20000

typedef struct {
    yaml_parser_t p;
    const char *name;
    char *err;
    size_t errlen;
    int nodes;
} ctx_t;

void
pnw_yaml_free(pnw_ynode_t *n)
{
    while (n) {
        pnw_ynode_t *next = n->next;
        pnw_yaml_free(n->kids);
        free(n->str);
        free(n);
        n = next;
    }
}

static pnw_ynode_t *
mk(ctx_t *c, pnw_ytype_t t, int line)
{
    if (++c->nodes > MAX_NODES) {
        (void)snprintf(c->err, c->errlen, "%s:%d: too many nodes", c->name, line);
        return NULL;
    }
    pnw_ynode_t *n = calloc(1, sizeof *n);
    if (n) {
        n->type = t;
        n->line = line;
    }
    return n;
}

static int next_event(ctx_t *c, yaml_event_t *ev);
static pnw_ynode_t *parse_node(ctx_t *c, yaml_event_t *ev, int depth);

static int
next_event(ctx_t *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->p, ev)) {
        (void)snprintf(c->err, c->errlen, "%s:%zu: %s", c->name, c->p.problem_mark.line + 1,
                       c->p.problem ? c->p.problem : "YAML syntax error");
        return -1;
    }
    return 0;
}

/* Parses the children of a mapping or sequence until its end event. */
static int
parse_children(ctx_t *c, pnw_ynode_t *parent, int depth)
{
    pnw_ynode_t **tail = &parent->kids;
    for (;;) {
        yaml_event_t ev;
        if (next_event(c, &ev) != 0)
            return -1;
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        int line = (int)ev.start_mark.line + 1;
        if (parent->type == PNW_Y_MAP) {
            if (ev.type != YAML_SCALAR_EVENT) {
                yaml_event_delete(&ev);
                (void)snprintf(c->err, c->errlen, "%s:%d: mapping keys must be plain strings",
                               c->name, line);
                return -1;
            }
            pnw_ynode_t *entry = mk(c, PNW_Y_SCALAR, line);
            if (!entry) {
                yaml_event_delete(&ev);
                return -1;
            }
            entry->str = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            yaml_event_delete(&ev);
            *tail = entry;
            tail = &entry->next;
            for (pnw_ynode_t *k = parent->kids; k != entry; k = k->next)
                if (strcmp(k->str, entry->str) == 0) {
                    (void)snprintf(c->err, c->errlen, "%s:%d: key %s given twice", c->name, line,
                                   entry->str);
                    return -1;
                }
            yaml_event_t vev;
            if (next_event(c, &vev) != 0)
                return -1;
            entry->kids = parse_node(c, &vev, depth + 1);
            if (!entry->kids)
                return -1;
        } else {
            pnw_ynode_t *item = parse_node(c, &ev, depth + 1);
            if (!item)
                return -1;
            *tail = item;
            tail = &item->next;
        }
    }
}

/* Consumes ev (and, for collections, everything up to the matching end). */
static pnw_ynode_t *
parse_node(ctx_t *c, yaml_event_t *ev, int depth)
{
    int line = (int)ev->start_mark.line + 1;
    pnw_ynode_t *n = NULL;
    if (depth > MAX_DEPTH) {
        (void)snprintf(c->err, c->errlen, "%s:%d: nested too deeply", c->name, line);
        yaml_event_delete(ev);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = mk(c, PNW_Y_SCALAR, line);
        if (n) {
            n->str = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
            n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        }
        yaml_event_delete(ev);
        return n;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        n = mk(c, ev->type == YAML_MAPPING_START_EVENT ? PNW_Y_MAP : PNW_Y_SEQ, line);
        yaml_event_delete(ev);
        if (n && parse_children(c, n, depth) != 0) {
            pnw_yaml_free(n);
            return NULL;
        }
        return n;
    case YAML_ALIAS_EVENT:
        (void)snprintf(c->err, c->errlen, "%s:%d: aliases are not supported", c->name, line);
        break;
    default:
        (void)snprintf(c->err, c->errlen, "%s:%d: unexpected YAML event", c->name, line);
        break;
    }
    yaml_event_delete(ev);
    return NULL;
}

pnw_ynode_t *
pnw_yaml_parse(const unsigned char *buf, size_t len, const char *name, char *err, size_t errlen)
{
    ctx_t c = {.name = name, .err = err, .errlen = errlen};
    pnw_ynode_t *root = NULL;
    yaml_event_t ev;
    if (!yaml_parser_initialize(&c.p)) {
        (void)snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    yaml_parser_set_input_string(&c.p, buf, len);
    /* stream start, then a document start or the stream end (empty file). */
    if (next_event(&c, &ev) != 0)
        goto out;
    yaml_event_delete(&ev);
    if (next_event(&c, &ev) != 0)
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        root = mk(&c, PNW_Y_MAP, 1);
        goto out;
    }
    yaml_event_delete(&ev);
    if (next_event(&c, &ev) != 0)
        goto out;
    root = parse_node(&c, &ev, 0);
    if (root && root->type == PNW_Y_SCALAR && root->str[0] == '\0' && !root->quoted) {
        pnw_yaml_free(root); /* a document holding only comments */
        root = mk(&c, PNW_Y_MAP, 1);
    }
    if (root && root->type != PNW_Y_MAP) {
        (void)snprintf(err, errlen, "%s:%d: the top level must be a mapping", name, root->line);
        pnw_yaml_free(root);
        root = NULL;
    }
    if (root) {
        if (next_event(&c, &ev) != 0) { /* document end */
            pnw_yaml_free(root);
            root = NULL;
            goto out;
        }
        yaml_event_delete(&ev);
        if (next_event(&c, &ev) != 0) {
            pnw_yaml_free(root);
            root = NULL;
            goto out;
        }
        if (ev.type != YAML_STREAM_END_EVENT) {
            (void)snprintf(err, errlen, "%s: only one YAML document is allowed", name);
            pnw_yaml_free(root);
            root = NULL;
        }
        yaml_event_delete(&ev);
    }
out:
    yaml_parser_delete(&c.p);
    return root;
}

pnw_ynode_t *
pnw_yaml_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        (void)snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= (1u << 22)) {
                (void)snprintf(err, errlen, "%s: larger than 4 MiB", path);
                free(buf);
                (void)fclose(f);
                return NULL;
            }
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    (void)fclose(f);
    if (!buf) {
        (void)snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    pnw_ynode_t *root = pnw_yaml_parse(buf, len, path, err, errlen);
    free(buf);
    return root;
}
