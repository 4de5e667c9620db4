/*
 * The kernel's side of pn_req_t: what a request carries between the HTTP front, the router,
 * authentication and a handler, and the functions behind the host API's req_* / reply_* /
 * db_* members. Kernel code (system routes, auth routes) calls these directly; plugins reach
 * them through pn_host_t.
 */
#ifndef PNK_REQUEST_H
#define PNK_REQUEST_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>

#include <powernode/host.h>

#include "../core/arena.h"
#include "../db/db.h"
#include "../http/http.h"
#include "../router/decode.h"
#include "../router/router.h"

typedef enum {
    PNK_PRINCIPAL_NONE = 0, /* anonymous */
    PNK_PRINCIPAL_USER,     /* a person, with an access token */
    PNK_PRINCIPAL_APIKEY,   /* a program, with an API key scoped to some of its owner's perms */
    PNK_PRINCIPAL_SERVICE,  /* a worker, with a service token */
} pnk_principal_kind_t;

/* Who is calling; filled by authentication before the handler runs. Arena memory. */
typedef struct pnk_principal {
    pnk_principal_kind_t kind;
    const char *user_id;    /* NULL for services */
    const char *account_id; /* NULL for services */
    const char *email;
    const char *token_id;   /* jti of the access token, or the API key id */
    const char *session_id; /* the access token's sign-in session (refresh family), or NULL */
    bool all_perms;         /* the admin system role: every registered permission */
    const char **perms;     /* sorted, for bsearch; ignored when all_perms */
    size_t nperms;
} pnk_principal_t;

struct pn_req {
    pnk_http_request_t *http;
    pnk_http_response_t *resp;
    pnk_arena_t *arena;
    const char *request_id;
    const char *client_ip; /* set by pnk_req_client_ip on first use */
    const pnk_route_t *route;
    pnk_match_t match;
    uint32_t allowed; /* methods the path allows, when routing answered 405 */
    pnk_principal_t principal;
    pn_plugin_ctx_t *plugin; /* the route's owner, NULL for kernel routes */

    json_t *json;            /* parsed body (kept by the arena) */
    pnk_query_pair_t *query; /* parsed lazily */
    size_t nquery;
    bool query_parsed;

    bool replied;
    int err_code;
    char *err_msg;
    json_t *err_details; /* array of {"field","message"} */

    pnk_db_conn_t *db; /* taken on first query, returned at the end of the request */
};

/* Request accessors (host API req_*). */
const char *pnk_req_param(pn_req_t *req, const char *name);
const char *pnk_req_query(pn_req_t *req, const char *name);
const char *pnk_req_header(pn_req_t *req, const char *name);
/* The client's address without port ("203.0.113.5", "::1"): the TCP peer, or the client an
 * X-Forwarded-For names when the peer is a trusted proxy (http/http_proxy.h); "-" when the
 * peer is not an address. Computed once per request. */
const char *pnk_req_client_ip(pn_req_t *req);
const void *pnk_req_body(pn_req_t *req, size_t *len);
json_t *pnk_req_json(pn_req_t *req);
void *pnk_req_alloc(pn_req_t *req, size_t n);
char *pnk_req_strdup(pn_req_t *req, const char *s);
char *pnk_req_printf(pn_req_t *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
json_t *pnk_req_keep_json(pn_req_t *req, json_t *j);
bool pnk_req_can(pn_req_t *req, const char *perm);

/* Replies (host API reply_*): each steals its json_t and returns PN_OK. */
int pnk_reply_json(pn_req_t *req, int status, json_t *data, json_t *meta);
int pnk_reply_raw(pn_req_t *req, int status, const char *content_type, const void *body,
                  size_t len);
int pnk_reply_header(pn_req_t *req, const char *name, const char *value);
/* Reply status with the error envelope carrying msg as it is. For the few 5xx answers whose
 * reason the client must read (a capacity limit, missing configuration): pnk_fail replaces
 * every 5xx message with a generic one. */
int pnk_reply_error_shown(pn_req_t *req, int status, const char *msg);
/* Serialize j compactly into the request arena; NULL on failure. Borrows j. */
char *pnk_req_dump_json(pn_req_t *req, const json_t *j, size_t *len);
/* Set the error slot and return code (the envelope is rendered after the handler). */
int pnk_fail(pn_req_t *req, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pnk_vfail(pn_req_t *req, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void pnk_fail_field(pn_req_t *req, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pnk_vfail_field(pn_req_t *req, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Database through the request's pooled connection (host API db_*). */
int pnk_req_db_query(pn_req_t *req, const char *sql, int nparams, const char *const *params,
                     pn_rows_t **rows);
int pnk_req_db_begin(pn_req_t *req);
int pnk_req_db_commit(pn_req_t *req);
int pnk_req_db_rollback(pn_req_t *req);

/* The process-wide pool the request layer draws from (set once at start-up). */
void pnk_request_set_db(pnk_db_pool_t *pool);
pnk_db_pool_t *pnk_request_db(void);

#endif
