/*
 * The segment trie behind pnk_router_match: one node per pattern prefix, literal children
 * sorted for binary search. Matching never allocates except the decoded parameter values.
 */
#include "router_int.h"

#include <stdlib.h>
#include <string.h>

#include <powernode/types.h>

#include "decode.h"

#define GET_INDEX 0
#define HEAD_INDEX 1

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Compares a raw segment, decoded on the fly, with a literal: bytewise, a prefix first.
 * Escapes were checked by check_path; literals never contain '%'. */
static int
seg_cmp(const char *raw, size_t rawlen, const char *lit, size_t litlen)
{
    size_t i = 0, j = 0;
    while (i < rawlen && j < litlen) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%' && i + 2 < rawlen) {
            c = (unsigned char)(hexval((unsigned char)raw[i + 1]) * 16 +
                                hexval((unsigned char)raw[i + 2]));
            i += 3;
        } else {
            i++;
        }
        unsigned char l = (unsigned char)lit[j++];
        if (c != l)
            return c < l ? -1 : 1;
    }
    return i < rawlen ? 1 : j < litlen ? -1 : 0;
}

/* The literal child for the segment, or NULL; *pos is where it would be inserted. */
static pnk_tnode_t *
find_kid(const pnk_tnode_t *n, const char *raw, size_t rawlen, size_t *pos)
{
    size_t lo = 0, hi = n->nkids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = seg_cmp(raw, rawlen, n->kids[mid]->lit, n->kids[mid]->litlen);
        if (c == 0) {
            *pos = mid;
            return n->kids[mid];
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *pos = lo;
    return NULL;
}

/* The child for segment i of e, created when `create`; NULL when absent or on ENOMEM. */
static pnk_tnode_t *
child(pnk_tnode_t *n, const pnk_entry_t *e, int i, bool create)
{
    pnk_tnode_t **slot = e->kinds[i] == PNK_SEG_PARAM  ? &n->param
                         : e->kinds[i] == PNK_SEG_REST ? &n->rest
                                                       : NULL;
    if (slot) {
        if (!*slot && create)
            *slot = calloc(1, sizeof **slot);
        return *slot;
    }
    size_t pos, len = strlen(e->segs[i]);
    pnk_tnode_t *k = find_kid(n, e->segs[i], len, &pos);
    if (k || !create)
        return k;
    if (n->nkids == n->capkids) {
        size_t cap = n->capkids ? n->capkids * 2 : 4;
        pnk_tnode_t **grown = realloc(
            n->kids,
            cap * sizeof *grown); /* NOLINT(bugprone-sizeof-expression): array of pointers */
        if (!grown)
            return NULL;
        n->kids = grown;
        n->capkids = cap;
    }
    if (!(k = calloc(1, sizeof *k)) || !(k->lit = strdup(e->segs[i]))) {
        free(k);
        return NULL;
    }
    k->litlen = len;
    memmove(n->kids + pos + 1, n->kids + pos,
            (n->nkids - pos) *
                sizeof *n->kids); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    n->kids[pos] = k;
    n->nkids++;
    return k;
}

static pnk_tnode_t *
walk(pnk_tnode_t *root, const pnk_entry_t *e, bool create)
{
    pnk_tnode_t *n = root;
    for (int i = 0; n && i < e->nsegs; i++)
        n = child(n, e, i, create);
    return n;
}

const pnk_entry_t *
pnk_router_trie_find(const pnk_tnode_t *root, const pnk_entry_t *e, int method)
{
    /* walk() does not modify the trie when create is false. */
    const pnk_tnode_t *n = walk((pnk_tnode_t *)(uintptr_t)root, e, false);
    int i = pnk_router_method_index(method);
    return n && i >= 0 ? n->routes[i] : NULL;
}

int
pnk_router_trie_insert(pnk_tnode_t *root, pnk_entry_t *e)
{
    pnk_tnode_t *n = walk(root, e, true);
    int i = pnk_router_method_index((int)e->route.method);
    if (!n || i < 0)
        return -1;
    n->routes[i] = e;
    return 0;
}

void
pnk_router_trie_remove(pnk_tnode_t *root, const pnk_entry_t *e)
{
    pnk_tnode_t *n = walk(root, e, false);
    int i = pnk_router_method_index((int)e->route.method);
    if (n && i >= 0 && n->routes[i] == e)
        n->routes[i] = NULL;
}

void
pnk_router_trie_free(pnk_tnode_t *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        pnk_router_trie_free(n->kids[i]);
    free(n->kids);
    pnk_router_trie_free(n->param);
    pnk_router_trie_free(n->rest);
    free(n->lit);
    free(n);
}

/*
 * Refuses what no route should ever see: a relative path, control bytes, bad or NUL escapes,
 * "." and ".." segments (also when encoded), and empty segments except a final one (a
 * trailing slash is legal but matches no pattern, since patterns cannot end in '/').
 */
static int
check_path(const char *raw)
{
    if (!raw || raw[0] != '/')
        return PN_E_BADREQ;
    const char *seg = raw + 1;
    if (*seg == '\0')
        return 0;
    for (;;) {
        size_t n = strcspn(seg, "/"), dec = 0;
        bool last = seg[n] == '\0';
        unsigned char head[2] = {0, 0};
        if (n == 0 && !last)
            return PN_E_BADREQ;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)seg[i];
            if (c < 0x20 || c == 0x7f)
                return PN_E_BADREQ;
            if (c == '%') {
                int hi = i + 2 < n ? hexval((unsigned char)seg[i + 1]) : -1;
                int lo = i + 2 < n ? hexval((unsigned char)seg[i + 2]) : -1;
                if (hi < 0 || lo < 0 || (hi | lo) == 0)
                    return PN_E_BADREQ;
                c = (unsigned char)(hi * 16 + lo);
                i += 2;
            }
            if (dec < 2)
                head[dec] = c;
            dec++;
        }
        if ((dec == 1 && head[0] == '.') || (dec == 2 && head[0] == '.' && head[1] == '.'))
            return PN_E_BADREQ;
        if (last)
            return 0;
        seg += n + 1;
    }
}

typedef struct mstate {
    int idx;   /* method index, -1 for a method no route can have */
    bool head; /* HEAD falls back to GET */
    const char *span[PNK_ROUTE_MAX_PARAMS];
    size_t len[PNK_ROUTE_MAX_PARAMS];
    uint32_t allowed; /* methods of every pattern that matched the path */
    const pnk_entry_t *found;
} mstate_t;

static bool
at_end(const pnk_tnode_t *n, mstate_t *m)
{
    for (int i = 0; i < PNK_NMETHODS; i++)
        if (n->routes[i])
            m->allowed |= 1u << i;
    const pnk_entry_t *e = m->idx >= 0 ? n->routes[m->idx] : NULL;
    if (!e && m->head)
        e = n->routes[GET_INDEX];
    m->found = e;
    return e != NULL;
}

/*
 * Depth-first in precedence order: literal, then parameter, then rest. Each trie node is
 * visited at most once, so the cost is bounded by the trie, not by the path. p is the start
 * of the current segment, NULL past the last one; k counts parameters bound so far.
 */
static bool
dfs(const pnk_tnode_t *n, const char *p, int k, mstate_t *m)
{
    if (!p)
        return at_end(n, m);
    size_t len = strcspn(p, "/"), pos;
    const char *next = p[len] == '/' ? p + len + 1 : NULL;
    const pnk_tnode_t *lit = n->nkids ? find_kid(n, p, len, &pos) : NULL;
    if (lit && dfs(lit, next, k, m))
        return true;
    if (k == PNK_ROUTE_MAX_PARAMS)
        return false;
    if (n->param && len > 0) {
        m->span[k] = p;
        m->len[k] = len;
        if (dfs(n->param, next, k + 1, m))
            return true;
    }
    if (n->rest) {
        m->span[k] = p;
        m->len[k] = strlen(p);
        return at_end(n->rest, m);
    }
    return false;
}

int
pnk_router_match(const pnk_router_t *r, int method, const char *raw_path, pnk_arena_t *arena,
                 pnk_match_t *out, uint32_t *allowed)
{
    mstate_t m = {.idx = pnk_router_method_index(method), .head = method == PN_HEAD};
    int rc = check_path(raw_path);

    memset(out, 0, sizeof *out);
    if (allowed)
        *allowed = 0;
    if (rc != 0)
        return rc;
    if (!dfs(r->root, raw_path[1] ? raw_path + 1 : NULL, 0, &m)) {
        if (!m.allowed)
            return PN_E_NOTFOUND;
        if (allowed)
            *allowed = m.allowed | PN_OPTIONS | (m.allowed & PN_GET ? PN_HEAD : 0);
        return PN_E_METHOD;
    }
    out->route = &m.found->route;
    out->nparams = m.found->nparams;
    for (int i = 0; i < m.found->nparams; i++) {
        out->names[i] = m.found->names[i];
        out->values[i] = pnk_percent_decode(arena, m.span[i], m.len[i], false);
        if (!out->values[i])
            return PN_E_INTERNAL; /* escapes were checked, so only ENOMEM gets here */
    }
    return 0;
}
