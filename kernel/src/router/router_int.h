/*
 * Router internals shared by router.c (the table), router_trie.c (the index and matching) and
 * openapi.c (which needs the parsed pattern). Not for use outside kernel/src/router.
 */
#ifndef PNK_ROUTER_INT_H
#define PNK_ROUTER_INT_H

#include <stdbool.h>

#include "router.h"

#define PNK_NMETHODS 7 /* GET .. OPTIONS, the pn_method_t bits in order */
#define PNK_ROUTE_MAX_SEGS 32

typedef enum { PNK_SEG_LIT, PNK_SEG_PARAM, PNK_SEG_REST } pnk_seg_kind_t;

/* A route and its parsed pattern. `route` must stay the first member (pnk_router_entry_of). */
typedef struct pnk_entry {
    pnk_route_t route;
    char *segbuf; /* the pattern after the leading '/', with each '/' replaced by NUL */
    int nsegs, nparams;
    const char *segs[PNK_ROUTE_MAX_SEGS]; /* into segbuf, ':' and '*' included */
    pnk_seg_kind_t kinds[PNK_ROUTE_MAX_SEGS];
    const char *names[PNK_ROUTE_MAX_PARAMS]; /* into segbuf, without ':' or '*' */
} pnk_entry_t;

typedef struct pnk_tnode pnk_tnode_t;
struct pnk_tnode {
    char *lit; /* this node's literal (owned: entries come and go) */
    size_t litlen;
    pnk_tnode_t **kids; /* literal children, sorted by bytes */
    size_t nkids, capkids;
    pnk_tnode_t *param; /* ":name" child; names live in the entries */
    pnk_tnode_t *rest;  /* "*name" child; always a leaf */
    pnk_entry_t *routes[PNK_NMETHODS];
};

struct pnk_router {
    pnk_entry_t **entries; /* registration order */
    size_t n, cap;
    pnk_tnode_t *root;
};

/* Index of a single pn_method_t bit, or -1. */
int pnk_router_method_index(int method);

/* The entry registered for e's pattern shape and method, or NULL. */
const pnk_entry_t *pnk_router_trie_find(const pnk_tnode_t *root, const pnk_entry_t *e, int method);
/* 0, or -1 on ENOMEM (the trie is left usable). */
int pnk_router_trie_insert(pnk_tnode_t *root, pnk_entry_t *e);
void pnk_router_trie_remove(pnk_tnode_t *root, const pnk_entry_t *e);
void pnk_router_trie_free(pnk_tnode_t *n);

/* The parsed pattern of a route from pnk_router_at(). */
const pnk_entry_t *pnk_router_entry_of(const pnk_router_t *r, const pnk_route_t *route);

#endif
