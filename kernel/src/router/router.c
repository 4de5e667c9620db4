/*
 * The route table: checks and copies routes at start-up and indexes them in a segment trie
 * (router_trie.c) for matching. Also the method name helpers.
 */
#include "router_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATTERN_LEN 1024
#define MAX_NAME_LEN 64

static const char *const method_names[PNK_NMETHODS] = {"GET",   "HEAD",   "POST",   "PUT",
                                                       "PATCH", "DELETE", "OPTIONS"};

int
pnk_router_method_index(int method)
{
    if (method <= 0 || (method & (method - 1)) != 0)
        return -1;
    int i = __builtin_ctz((unsigned)method);
    return i < PNK_NMETHODS ? i : -1;
}

const char *
pnk_method_name(int method)
{
    int i = pnk_router_method_index(method);
    return i < 0 ? "UNKNOWN" : method_names[i];
}

int
pnk_method_parse(const char *name)
{
    /* Methods are case-sensitive (RFC 9110 section 9.1). */
    for (int i = 0; name && i < PNK_NMETHODS; i++)
        if (strcmp(method_names[i], name) == 0)
            return 1 << i;
    return 0;
}

char *
pnk_method_allow_list(uint32_t methods, pnk_arena_t *arena)
{
    char buf[64] = "";
    size_t len = 0;
    for (int i = 0; i < PNK_NMETHODS; i++)
        if (methods & (1u << i))
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? ", " : "",
                                    method_names[i]);
    return pnk_arena_strdup(arena, buf);
}

pnk_router_t *
pnk_router_new(void)
{
    pnk_router_t *r = calloc(1, sizeof *r);
    if (r && !(r->root = calloc(1, sizeof *r->root))) {
        free(r);
        return NULL;
    }
    return r;
}

static void
entry_free(pnk_entry_t *e)
{
    if (!e)
        return;
    free(e->route.path);
    free(e->route.perm);
    free(e->route.summary);
    free(e->route.owner);
    pnk_schema_free(e->route.req_schema);
    pnk_schema_free(e->route.resp_schema);
    free(e->segbuf);
    free(e);
}

void
pnk_router_free(pnk_router_t *r)
{
    if (!r)
        return;
    pnk_router_trie_free(r->root);
    for (size_t i = 0; i < r->n; i++)
        entry_free(r->entries[i]);
    free(r->entries);
    free(r);
}

static bool
is_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_NAME_LEN ||
        !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

/* A literal segment: RFC 3986 pchar without '%' (literals are written decoded), and not a
 * dot segment, which no request path can hold. */
static bool
is_literal(const char *s)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "-._~!$&'()+,;=:@*";
    size_t n = strlen(s);
    return n > 0 && strspn(s, ok) == n && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Splits and checks the pattern into e; 0, or -1 with the reason in why. */
static int
parse_pattern(pnk_entry_t *e, const char *path, char *why, size_t whylen)
{
    size_t len = path ? strlen(path) : 0;
    if (!path || path[0] != '/' || len > MAX_PATTERN_LEN) {
        (void)snprintf(why, whylen, "the path must start with '/' and be at most %d bytes",
                       MAX_PATTERN_LEN);
        return -1;
    }
    if (len > 1 && path[len - 1] == '/') {
        (void)snprintf(why, whylen, "the path must not end with '/'");
        return -1;
    }
    if (!(e->segbuf = strdup(path + 1))) {
        (void)snprintf(why, whylen, "out of memory");
        return -1;
    }
    char *p = e->segbuf;
    while (len > 1 && p) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        int i = e->nsegs;
        if (i == PNK_ROUTE_MAX_SEGS) {
            (void)snprintf(why, whylen, "more than %d segments", PNK_ROUTE_MAX_SEGS);
            return -1;
        }
        e->segs[i] = p;
        e->kinds[i] = p[0] == ':' ? PNK_SEG_PARAM : p[0] == '*' ? PNK_SEG_REST : PNK_SEG_LIT;
        e->nsegs++;
        if (e->kinds[i] == PNK_SEG_LIT) {
            if (!is_literal(p) || p[0] == ':' || p[0] == '*') {
                (void)snprintf(why, whylen,
                               "segment %d is empty, a dot segment or has a character "
                               "outside [A-Za-z0-9-._~!$&'()+,;=:@*]",
                               i + 1);
                return -1;
            }
        } else {
            if (!is_name(p + 1)) {
                (void)snprintf(why, whylen,
                               "parameter in segment %d needs a name [A-Za-z_][A-Za-z0-9_]*",
                               i + 1);
                return -1;
            }
            if (e->kinds[i] == PNK_SEG_REST && slash) {
                (void)snprintf(why, whylen, "a *rest parameter must be the last segment");
                return -1;
            }
            if (e->nparams == PNK_ROUTE_MAX_PARAMS) {
                (void)snprintf(why, whylen, "more than %d parameters", PNK_ROUTE_MAX_PARAMS);
                return -1;
            }
            for (int k = 0; k < e->nparams; k++)
                if (strcmp(e->names[k], p + 1) == 0) {
                    (void)snprintf(why, whylen, "parameter \"%s\" appears twice", p + 1);
                    return -1;
                }
            e->names[e->nparams++] = p + 1;
        }
        p = slash ? slash + 1 : NULL;
    }
    return 0;
}

/* "<ns>.<resource>.<verb>", each part [a-z0-9_]+ (the form host.h gives for permissions). */
static bool
is_perm(const char *s)
{
    int parts = 0;
    for (;;) {
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
        if (n == 0)
            return false;
        parts++;
        s += n;
        if (*s == '\0')
            return parts == 3;
        if (*s++ != '.')
            return false;
    }
}

static const char *
check_fields(const pn_route_t *route)
{
    const uint32_t known =
        PN_ROUTE_PUBLIC | PN_ROUTE_SERVICE | PN_ROUTE_RAW_BODY | PN_ROUTE_UNDOCUMENTED;
    int mi = pnk_router_method_index((int)route->method);

    if (mi < 0 || route->method == PN_OPTIONS)
        return "the method must be one of GET, HEAD, POST, PUT, PATCH, DELETE (OPTIONS is the "
               "kernel's)";
    if (!route->fn)
        return "no handler";
    if (!route->summary || !route->summary[0])
        return "a summary is required";
    if (route->flags & ~known)
        return "unknown flag bits";
    if ((route->flags & PN_ROUTE_PUBLIC) && (route->flags & PN_ROUTE_SERVICE))
        return "PN_ROUTE_PUBLIC and PN_ROUTE_SERVICE exclude each other";
    if ((route->flags & PN_ROUTE_PUBLIC) && route->perm)
        return "a public route must not have a perm";
    if (!(route->flags & (PN_ROUTE_PUBLIC | PN_ROUTE_SERVICE)) && !route->perm)
        return "a perm is required unless the route is public or service-only";
    if (route->perm && !is_perm(route->perm))
        return "perm must look like <ns>.<resource>.<verb> ([a-z0-9_] parts)";
    if ((route->flags & PN_ROUTE_RAW_BODY) && route->req_schema)
        return "a raw-body route cannot have req_schema (the body is not parsed)";
    return NULL;
}

static int
add_fail(char *err, size_t errlen, const pn_route_t *route, const char *owner, const char *why)
{
    (void)snprintf(err, errlen, "route %s %s (owner %s): %s", pnk_method_name((int)route->method),
                   route->path ? route->path : "(null)", owner ? owner : "(null)", why);
    return -1;
}

static pnk_schema_t *
compile_schema(const char *text, const char *which, char *why, size_t whylen, int *rc)
{
    char e[200];
    if (!text)
        return NULL;
    pnk_schema_t *s = pnk_schema_compile(text, e, sizeof e);
    if (!s) {
        (void)snprintf(why, whylen, "%s: %s", which, e);
        *rc = -1;
    }
    return s;
}

static char *
dup_opt(const char *s, int *rc)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *rc = -1;
    return d;
}

int
pnk_router_add(pnk_router_t *r, const pn_route_t *route, const char *owner, void *owner_data,
               char *err, size_t errlen)
{
    char why[300];
    const char *bad = owner ? check_fields(route) : "no owner";

    if (bad)
        return add_fail(err, errlen, route, owner, bad);
    pnk_entry_t *e = calloc(1, sizeof *e);
    if (!e)
        return add_fail(err, errlen, route, owner, "out of memory");
    if (parse_pattern(e, route->path, why, sizeof why) < 0) {
        entry_free(e);
        return add_fail(err, errlen, route, owner, why);
    }
    const pnk_entry_t *dup = pnk_router_trie_find(r->root, e, (int)route->method);
    if (dup) {
        entry_free(e);
        (void)snprintf(why, sizeof why, "same method and pattern as %s (owner %s)", dup->route.path,
                       dup->route.owner);
        return add_fail(err, errlen, route, owner, why);
    }

    int rc = 0;
    pnk_route_t *k = &e->route;
    k->method = route->method;
    k->fn = route->fn;
    k->max_body = route->max_body;
    k->flags = route->flags;
    k->owner_data = owner_data;
    k->path = dup_opt(route->path, &rc);
    k->perm = dup_opt(route->perm, &rc);
    k->summary = dup_opt(route->summary, &rc);
    k->owner = dup_opt(owner, &rc);
    (void)snprintf(why, sizeof why, "out of memory");
    if (rc == 0)
        k->req_schema = compile_schema(route->req_schema, "req_schema", why, sizeof why, &rc);
    if (rc == 0)
        k->resp_schema = compile_schema(route->resp_schema, "resp_schema", why, sizeof why, &rc);
    if (rc == 0 && r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        pnk_entry_t **grown = realloc(
            r->entries,
            cap * sizeof *grown); /* NOLINT(bugprone-sizeof-expression): array of pointers */
        if (grown) {
            r->entries = grown;
            r->cap = cap;
        } else {
            rc = -1;
        }
    }
    if (rc == 0 && pnk_router_trie_insert(r->root, e) < 0) {
        (void)snprintf(why, sizeof why, "out of memory");
        rc = -1;
    }
    if (rc < 0) {
        entry_free(e);
        return add_fail(err, errlen, route, owner, why);
    }
    r->entries[r->n++] = e;
    return 0;
}

size_t
pnk_router_count(const pnk_router_t *r)
{
    return r ? r->n : 0;
}

const pnk_route_t *
pnk_router_at(const pnk_router_t *r, size_t i)
{
    return r && i < r->n ? &r->entries[i]->route : NULL;
}

size_t
pnk_router_count_owner(const pnk_router_t *r, const char *owner)
{
    size_t count = 0;
    for (size_t i = 0; r && owner && i < r->n; i++)
        count += strcmp(r->entries[i]->route.owner, owner) == 0;
    return count;
}

void
pnk_router_remove_owner(pnk_router_t *r, const char *owner)
{
    size_t kept = 0;
    for (size_t i = 0; r && owner && i < r->n; i++) {
        pnk_entry_t *e = r->entries[i];
        if (strcmp(e->route.owner, owner) == 0) {
            /* Emptied trie nodes stay: they match nothing and cost nothing to keep. */
            pnk_router_trie_remove(r->root, e);
            entry_free(e);
        } else {
            r->entries[kept++] = e;
        }
    }
    if (r && owner)
        r->n = kept;
}

const pnk_entry_t *
pnk_router_entry_of(const pnk_router_t *r, const pnk_route_t *route)
{
    /* route is the first member of the entry. */
    (void)r;
    return (const pnk_entry_t *)(const void *)route;
}
