/*
 * The route table: method + path pattern -> route, with parameters. Filled at start-up on one
 * thread, then read-only and shared by every thread without locks.
 */
#ifndef PNK_ROUTER_H
#define PNK_ROUTER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <powernode/host.h>

#include "../core/arena.h"
#include "schema.h"

#define PNK_ROUTE_MAX_PARAMS 8

/* The kernel's copy of a registered route; strings and schemas are owned by the router. */
typedef struct pnk_route {
    pn_method_t method;
    char *path; /* the pattern as registered */
    char *perm; /* NULL for public/service routes */
    pn_handler_fn fn;
    char *summary;
    size_t max_body;           /* 0 = server default */
    pnk_schema_t *req_schema;  /* NULL when none */
    pnk_schema_t *resp_schema; /* NULL when none */
    uint32_t flags;            /* PN_ROUTE_* */
    char *owner;               /* plugin name, or "kernel" */
    void *owner_data;          /* the owning plugin's context (opaque to the router) */
} pnk_route_t;

typedef struct pnk_match {
    const pnk_route_t *route;
    int nparams;
    const char *names[PNK_ROUTE_MAX_PARAMS]; /* borrowed from the route */
    char *values[PNK_ROUTE_MAX_PARAMS];      /* percent-decoded, in the arena */
} pnk_match_t;

typedef struct pnk_router pnk_router_t;

pnk_router_t *pnk_router_new(void);
void pnk_router_free(pnk_router_t *r);

/* Copy and compile one route (pattern syntax, schema JSON, duplicate method+pattern, perm
 * rules: non-public routes need a perm). owner_data is stored as is. 0, or -1 with a one-line
 * reason naming the route in err. */
int pnk_router_add(pnk_router_t *r, const pn_route_t *route, const char *owner, void *owner_data,
                   char *err, size_t errlen);

/*
 * Match a request. raw_path is the percent-encoded path (no query): segments are split on '/'
 * before decoding, so "%2F" inside a parameter stays part of it. Literal segments compare
 * against the decoded segment. A GET route also matches HEAD.
 * Returns 0 with *out filled; PN_E_NOTFOUND when no pattern matches; PN_E_METHOD when a
 * pattern matches but not the method, with *allowed set to the pn_method_t bits that would
 * (HEAD and OPTIONS included); PN_E_BADREQ for an undecodable path (bad escape, NUL byte).
 * Precedence, segment by segment: literal, then ":param", then "*rest"; a pattern that fits
 * the path but not the method yields to a lower one that has the method. A trailing slash
 * counts ("/a/b/" does not match "/a/b"). Also PN_E_BADREQ: a path not starting with '/',
 * "." or ".." segments (even encoded), empty segments other than a final one, control bytes.
 * OPTIONS routes cannot be registered, so OPTIONS always gets PN_E_METHOD and the set.
 */
int pnk_router_match(const pnk_router_t *r, int method, const char *raw_path, pnk_arena_t *arena,
                     pnk_match_t *out, uint32_t *allowed);

size_t pnk_router_count(const pnk_router_t *r);
const pnk_route_t *pnk_router_at(const pnk_router_t *r, size_t i);
/* Number of routes owned by `owner`. */
size_t pnk_router_count_owner(const pnk_router_t *r, const char *owner);
/* Drop every route owned by `owner` (a plugin whose init failed after registering some). */
void pnk_router_remove_owner(pnk_router_t *r, const char *owner);

/* "GET", "POST", ... for one pn_method_t bit; "Allow" header text for a set (arena). */
const char *pnk_method_name(int method);
int pnk_method_parse(const char *name);
char *pnk_method_allow_list(uint32_t methods, pnk_arena_t *arena);

#endif
