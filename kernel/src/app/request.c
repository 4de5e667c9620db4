/*
 * The request functions behind the host API: accessors, arena helpers, replies, the error
 * slot and database access through the request's pooled connection. Not the dispatch logic
 * (dispatch.c) nor authentication (auth/).
 */
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"

#include "../core/envelope.h"
#include "../core/log.h"

static pnk_db_pool_t *db_pool;

void
pnk_request_set_db(pnk_db_pool_t *pool)
{
    db_pool = pool;
}

pnk_db_pool_t *
pnk_request_db(void)
{
    return db_pool;
}

const char *
pnk_req_param(pn_req_t *req, const char *name)
{
    for (int i = 0; i < req->match.nparams; i++)
        if (strcmp(req->match.names[i], name) == 0)
            return req->match.values[i];
    return NULL;
}

const char *
pnk_req_query(pn_req_t *req, const char *name)
{
    if (!req->query_parsed) {
        req->query_parsed = true;
        if (req->http->query &&
            pnk_query_parse(req->arena, req->http->query, 256, &req->query, &req->nquery) != 0) {
            req->query = NULL;
            req->nquery = 0;
        }
    }
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].key, name) == 0)
            return req->query[i].value;
    return NULL;
}

const char *
pnk_req_header(pn_req_t *req, const char *name)
{
    return pnk_http_request_header(req->http, name);
}

const char *
pnk_req_client_ip(pn_req_t *req)
{
    char peer[64], ip[64];

    if (req->client_ip)
        return req->client_ip;
    if (!req->http || !pnk_proxy_peer_ip(req->http->peer, peer, sizeof peer))
        return "-";
    pnk_proxy_client_ip(pnk_app.trusted_proxies, peer, pnk_req_header(req, "X-Forwarded-For"), ip,
                        sizeof ip);
    req->client_ip = pnk_arena_strdup(req->arena, ip);
    return req->client_ip ? req->client_ip : "-";
}

const void *
pnk_req_body(pn_req_t *req, size_t *len)
{
    if (len)
        *len = req->http->body_len;
    return req->http->body ? req->http->body : "";
}

json_t *
pnk_req_json(pn_req_t *req)
{
    return req->json;
}

void *
pnk_req_alloc(pn_req_t *req, size_t n)
{
    return pnk_arena_alloc(req->arena, n);
}

char *
pnk_req_strdup(pn_req_t *req, const char *s)
{
    return pnk_arena_strdup(req->arena, s);
}

char *
pnk_req_printf(pn_req_t *req, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = pnk_arena_vprintf(req->arena, fmt, ap);
    va_end(ap);
    return s;
}

static void
decref(void *j)
{
    json_decref(j);
}

json_t *
pnk_req_keep_json(pn_req_t *req, json_t *j)
{
    if (j && pnk_arena_defer(req->arena, decref, j) != 0) {
        /* Could not tie it to the arena: leaking is worse than dropping it now. */
        json_decref(j);
        return NULL;
    }
    return j;
}

static int
cmp_perm(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

bool
pnk_req_can(pn_req_t *req, const char *perm)
{
    const pnk_principal_t *p = &req->principal;

    if (p->kind == PNK_PRINCIPAL_NONE || perm == NULL)
        return false;
    if (p->all_perms)
        return true;
    return p->nperms && bsearch(perm, p->perms, p->nperms, sizeof(*p->perms), cmp_perm) != NULL;
}

int
pnk_reply_header(pn_req_t *req, const char *name, const char *value)
{
    if (name == NULL || value == NULL || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return PN_E_INTERNAL; /* header injection is a programming error, not input */
    return pnk_http_response_header(req->http, req->resp, name, value) == 0 ? PN_OK : PN_E_INTERNAL;
}

int
pnk_reply_raw(pn_req_t *req, int status, const char *content_type, const void *body, size_t len)
{
    if (req->replied) {
        PNK_ERROR("request", "handler replied twice route=%s", req->route ? req->route->path : "-");
        return PN_E_INTERNAL;
    }
    req->replied = true;
    req->resp->status = status;
    if (content_type)
        (void)pnk_http_response_header(req->http, req->resp, "Content-Type", content_type);
    if (len) {
        req->resp->body = pnk_arena_memdup(req->arena, body, len);
        if (req->resp->body == NULL) {
            req->replied = false;
            return pnk_fail(req, PN_E_INTERNAL, "out of memory");
        }
    }
    req->resp->body_len = len;
    return PN_OK;
}

/* Serialize straight into arena memory, so a reply costs one copy and no malloc'd string. */
char *
pnk_req_dump_json(pn_req_t *req, const json_t *j, size_t *len)
{
    size_t n = j ? json_dumpb(j, NULL, 0, JSON_COMPACT) : 0;
    char *buf = n ? pnk_arena_alloc(req->arena, n) : NULL;

    if (buf == NULL || json_dumpb(j, buf, n, JSON_COMPACT) != n)
        return NULL;
    *len = n;
    return buf;
}

static int
reply_dump(pn_req_t *req, int status, json_t *doc)
{
    size_t n = 0;
    char *buf = pnk_req_dump_json(req, doc, &n);

    if (buf == NULL) {
        json_decref(doc);
        return pnk_fail(req, PN_E_INTERNAL, "could not serialize the reply");
    }
    json_decref(doc);
    if (req->replied)
        return PN_E_INTERNAL;
    req->replied = true;
    req->resp->status = status;
    (void)pnk_http_response_header(req->http, req->resp, "Content-Type", "application/json");
    req->resp->body = buf;
    req->resp->body_len = n;
    return PN_OK;
}

int
pnk_reply_error_shown(pn_req_t *req, int status, const char *msg)
{
    size_t len = 0;
    char *text = pnk_envelope_error_text(msg, NULL, NULL, &len);
    if (text == NULL)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    int rc = pnk_reply_raw(req, status, "application/json", text, len);
    free(text);
    return rc;
}

int
pnk_reply_json(pn_req_t *req, int status, json_t *data, json_t *meta)
{
    json_t *doc = pnk_envelope_ok(data, meta);

    if (doc == NULL)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    return reply_dump(req, status, doc);
}

int
pnk_vfail(pn_req_t *req, int code, const char *fmt, va_list ap)
{
    if (code >= 0)
        code = PN_E_INTERNAL;
    req->err_code = code;
    req->err_msg = fmt ? pnk_arena_vprintf(req->arena, fmt, ap) : NULL;
    return code;
}

int
pnk_fail(pn_req_t *req, int code, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = pnk_vfail(req, code, fmt, ap);
    va_end(ap);
    return rc;
}

void
pnk_vfail_field(pn_req_t *req, const char *field, const char *fmt, va_list ap)
{
    char *msg = pnk_arena_vprintf(req->arena, fmt, ap);

    if (req->err_details == NULL)
        req->err_details = pnk_req_keep_json(req, json_array());
    if (req->err_details && msg)
        json_array_append_new(req->err_details,
                              json_pack("{s:s?, s:s}", "field", field, "message", msg));
}

void
pnk_fail_field(pn_req_t *req, const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pnk_vfail_field(req, field, fmt, ap);
    va_end(ap);
}

/* ---- database ---- */

static int
ensure_conn(pn_req_t *req)
{
    char err[256];

    if (req->db)
        return PN_OK;
    if (db_pool == NULL)
        return pnk_fail(req, PN_E_UNAVAILABLE, "database is not configured");
    int rc = pnk_db_acquire(db_pool, &req->db, err, sizeof err);
    if (rc != PN_OK) {
        PNK_WARN("db", "acquire failed: %s", err);
        return pnk_fail(req, rc, "database unavailable");
    }
    return PN_OK;
}

static int
db_error(pn_req_t *req, int rc, const char *err)
{
    /* Conflict and invalid-data messages are written to be safe for clients (db.h); the rest
     * stay in the log. */
    if (rc == PN_E_CONFLICT || rc == PN_E_INVALID)
        return pnk_fail(req, rc, "%s", err);
    if (rc == PN_E_UNAVAILABLE)
        return pnk_fail(req, rc, "database unavailable");
    if (rc == PN_E_TIMEOUT)
        return pnk_fail(req, rc, "database query timed out");
    return pnk_fail(req, PN_E_INTERNAL, "database error");
}

int
pnk_req_db_query(pn_req_t *req, const char *sql, int nparams, const char *const *params,
                 pn_rows_t **rows)
{
    char err[512];
    int rc;

    if ((rc = ensure_conn(req)) != PN_OK)
        return rc;
    rc = pnk_db_exec(req->db, sql, nparams, params, req->arena, rows, err, sizeof err);
    return rc == PN_OK ? PN_OK : db_error(req, rc, err);
}

int
pnk_req_db_begin(pn_req_t *req)
{
    char err[256];
    int rc;

    if ((rc = ensure_conn(req)) != PN_OK)
        return rc;
    rc = pnk_db_begin(req->db, err, sizeof err);
    return rc == PN_OK ? PN_OK : db_error(req, rc, err);
}

int
pnk_req_db_commit(pn_req_t *req)
{
    char err[256];

    if (req->db == NULL)
        return pnk_fail(req, PN_E_INTERNAL, "commit without a transaction");
    int rc = pnk_db_commit(req->db, err, sizeof err);
    return rc == PN_OK ? PN_OK : db_error(req, rc, err);
}

int
pnk_req_db_rollback(pn_req_t *req)
{
    char err[256];

    if (req->db == NULL)
        return PN_OK;
    int rc = pnk_db_rollback(req->db, err, sizeof err);
    return rc == PN_OK ? PN_OK : db_error(req, rc, err);
}
