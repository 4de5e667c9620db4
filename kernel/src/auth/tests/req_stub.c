/* See req_stub.h. Replies are recorded instead of rendered; the connection taken by the first
 * query is rolled back and returned by stub_req_free, as the real request end does. */
#include "req_stub.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../core/envelope.h"

stub_req_t *
stub_req_new(pnk_db_pool_t *pool, uint32_t flags, const char *perm, const char *authorization,
             const char *json_body)
{
    stub_req_t *s = calloc(1, sizeof *s);
    s->pool = pool;
    s->req.arena = pnk_arena_new(0);
    s->http.arena = s->req.arena;
    s->req.http = &s->http;
    s->route.method = PN_GET;
    s->route.path = "/api/v1/test";
    s->route.perm = perm ? pnk_arena_strdup(s->req.arena, perm) : NULL;
    s->route.flags = flags;
    s->req.route = &s->route;
    if (authorization) {
        s->headers[0] = (pnk_http_header_t){"Authorization", authorization};
        s->http.headers = s->headers;
        s->http.nheaders = 1;
    }
    if (json_body)
        s->req.json = json_loads(json_body, 0, NULL);
    return s;
}

void
stub_req_free(stub_req_t *s)
{
    if (!s)
        return;
    if (s->req.db) {
        if (pnk_db_in_tx(s->req.db)) {
            char err[64];
            (void)pnk_db_rollback(s->req.db, err, sizeof err);
        }
        pnk_db_release(s->pool, s->req.db);
    }
    json_decref(s->req.json);
    json_decref(s->data);
    pnk_arena_free(s->req.arena);
    free(s);
}

static stub_req_t *
stub_of(pn_req_t *req)
{
    return (stub_req_t *)(void *)((char *)req - offsetof(stub_req_t, req));
}

const char *
pnk_req_header(pn_req_t *req, const char *name)
{
    for (size_t i = 0; i < req->http->nheaders; i++)
        if (strcasecmp(req->http->headers[i].name, name) == 0)
            return req->http->headers[i].value;
    return NULL;
}

const char *
pnk_req_client_ip(pn_req_t *req)
{
    (void)req;
    return "127.0.0.1";
}

json_t *
pnk_req_json(pn_req_t *req)
{
    return req->json;
}

int
pnk_reply_header(pn_req_t *req, const char *name, const char *value)
{
    stub_req_t *s = stub_of(req);
    size_t len = strlen(s->reply_headers);
    snprintf(s->reply_headers + len, sizeof s->reply_headers - len, "%s: %s\n", name, value);
    return PN_OK;
}

int
pnk_reply_json(pn_req_t *req, int status, json_t *data, json_t *meta)
{
    stub_req_t *s = stub_of(req);
    json_decref(meta);
    json_decref(s->data);
    s->data = data;
    s->status = status;
    req->replied = true;
    return PN_OK;
}

int
pnk_vfail(pn_req_t *req, int code, const char *fmt, va_list ap)
{
    req->err_code = code < 0 ? code : PN_E_INTERNAL;
    req->err_msg = pnk_arena_vprintf(req->arena, fmt, ap);
    return req->err_code;
}

int
pnk_fail(pn_req_t *req, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = pnk_vfail(req, code, fmt, ap);
    va_end(ap);
    return rc;
}

int
pnk_req_db_query(pn_req_t *req, const char *sql, int nparams, const char *const *params,
                 pn_rows_t **rows)
{
    stub_req_t *s = stub_of(req);
    char err[512];
    int rc;
    if (!req->db && (rc = pnk_db_acquire(s->pool, &req->db, err, sizeof err)) != PN_OK)
        return pnk_fail(req, rc, "database unavailable: %s", err);
    rc = pnk_db_exec(req->db, sql, nparams, params, req->arena, rows, err, sizeof err);
    return rc == PN_OK ? PN_OK : pnk_fail(req, rc, "%s", err);
}

void
pnk_fail_field(pn_req_t *req, const char *field, const char *fmt, ...)
{
    (void)req;
    (void)field;
    (void)fmt; /* the tests look at the code and message, not the field details */
}

/* Through the db layer's own calls, so it tracks the transaction as the real request does. */
static int
tx(pn_req_t *req, int (*fn)(pnk_db_conn_t *, char *, size_t))
{
    stub_req_t *s = stub_of(req);
    char err[512];
    int rc;
    if (!req->db && (rc = pnk_db_acquire(s->pool, &req->db, err, sizeof err)) != PN_OK)
        return pnk_fail(req, rc, "database unavailable: %s", err);
    rc = fn(req->db, err, sizeof err);
    return rc == PN_OK ? PN_OK : pnk_fail(req, rc, "%s", err);
}

int
pnk_req_db_begin(pn_req_t *req)
{
    return tx(req, pnk_db_begin);
}

int
pnk_req_db_commit(pn_req_t *req)
{
    return tx(req, pnk_db_commit);
}

int
pnk_req_db_rollback(pn_req_t *req)
{
    return tx(req, pnk_db_rollback);
}

const char *
pnk_req_param(pn_req_t *req, const char *name)
{
    (void)req;
    (void)name;
    return NULL;
}

int
pnk_reply_error_shown(pn_req_t *req, int status, const char *msg)
{
    size_t len = 0;
    char *text = pnk_envelope_error_text(msg, NULL, NULL, &len);
    int rc = text ? pnk_reply_raw(req, status, "application/json", text, len) : PN_E_INTERNAL;
    free(text);
    return rc;
}

int
pnk_reply_raw(pn_req_t *req, int status, const char *content_type, const void *body, size_t len)
{
    stub_req_t *s = stub_of(req);
    (void)content_type;
    json_decref(s->data);
    /* The auth routes only write JSON this way: error envelopes, and /auth/me's cached success
     * envelope, whose data is what the tests look at (as with pnk_reply_json). */
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *inner =
        json_is_true(json_object_get(doc, "success")) ? json_object_get(doc, "data") : NULL;
    s->data = inner ? json_incref(inner) : json_incref(doc);
    json_decref(doc);
    s->status = status;
    req->replied = true;
    return PN_OK;
}
