/*
 * The request pipeline between the HTTP front and a handler: route, CORS, authentication,
 * permission, body decoding and schema validation, then the handler, then the envelope for
 * whatever failed. Not the HTTP framing (http/) nor the handlers themselves.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../audit/audit.h"
#include "../auth/auth.h"
#include "../auth/pcache.h"
#include "../core/envelope.h"
#include "../core/log.h"
#include "../router/decode.h"
#include "app.h"
#include "request.h"

static bool
is_api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

int
pnk_dispatch_on_head(void *ud, pnk_http_request_t *http, size_t *max_body, const char **msg)
{
    (void)ud;
    (void)msg;
    pn_req_t *req = pnk_arena_calloc(http->arena, 1, sizeof(*req));
    uint32_t allowed = 0;

    if (req == NULL)
        return 503;
    req->http = http;
    req->arena = http->arena;
    http->app_data = req;
    /* Route here, on the loop thread, so the route's own body limit applies before a byte of
     * the body is read. The match is kept for the handler thread. */
    int rc = pnk_router_match(pnk_app.router, http->method_id ? http->method_id : PN_GET,
                              http->raw_path, http->arena, &req->match, &allowed);
    if (rc == PN_OK) {
        req->route = req->match.route;
        *max_body = req->route->max_body ? req->route->max_body : pnk_app.max_body;
        return 0;
    }
    req->err_code = rc;
    req->allowed = allowed;
    /* Unrouted requests carry no body worth reading; a small one is read and dropped so the
     * client still gets its 404/405 rather than a 413. */
    *max_body = (size_t)64 * 1024;
    return 0;
}

/* X-Request-Id from a client is accepted only when it cannot forge log lines or headers. */
static bool
sane_request_id(const char *s)
{
    size_t n = 0;

    if (s == NULL)
        return false;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_' || s[n] == '.'))
            return false;
    return n >= 8 && n <= 128;
}

static const char *
allowed_origin(pn_req_t *req)
{
    const char *origin = pnk_req_header(req, "Origin");

    if (origin == NULL)
        return NULL;
    for (size_t i = 0; i < pnk_app.ncors; i++)
        if (strcmp(pnk_app.cors_origins[i], origin) == 0 ||
            strcmp(pnk_app.cors_origins[i], "*") == 0)
            return origin;
    return NULL;
}

static void
add_cors(pn_req_t *req, const char *origin)
{
    (void)pnk_http_response_header(req->http, req->resp, "Access-Control-Allow-Origin", origin);
    (void)pnk_http_response_header(req->http, req->resp, "Vary", "Origin");
    (void)pnk_http_response_header(req->http, req->resp, "Access-Control-Expose-Headers",
                                   "X-Request-Id, Retry-After, ETag, Content-Disposition");
}

static int
answer_options(pn_req_t *req, uint32_t allowed, const char *origin)
{
    char *allow = pnk_method_allow_list(allowed, req->arena);

    (void)pnk_reply_header(req, "Allow", allow ? allow : "OPTIONS");
    if (origin && pnk_req_header(req, "Access-Control-Request-Method")) {
        (void)pnk_reply_header(req, "Access-Control-Allow-Methods", allow ? allow : "OPTIONS");
        (void)pnk_reply_header(req, "Access-Control-Allow-Headers",
                               "Authorization, Content-Type, X-Request-Id, Idempotency-Key");
        (void)pnk_reply_header(req, "Access-Control-Max-Age", "600");
    }
    return pnk_reply_raw(req, 204, NULL, NULL, 0);
}

static void
on_schema_error(void *ud, const char *where, const char *message)
{
    pnk_fail_field(ud, where && *where ? where : NULL, "%s", message);
}

static bool
is_json_type(const char *ct)
{
    if (ct == NULL)
        return false;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0 && strchr(ct, '/'));
}

static int
decode_body(pn_req_t *req)
{
    const pnk_route_t *route = req->route;
    char err[256];

    if (route->flags & PN_ROUTE_RAW_BODY)
        return PN_OK;
    if (req->http->body_len > 0) {
        if (!is_json_type(pnk_req_header(req, "Content-Type")))
            return pnk_fail(req, PN_E_MEDIATYPE, "request body must be application/json");
        req->json = pnk_json_decode(req->http->body, req->http->body_len, pnk_app.json_max_depth,
                                    err, sizeof err);
        if (req->json == NULL) {
            pnk_fail_field(req, NULL, "%s", err);
            return pnk_fail(req, PN_E_BADREQ, "request body is not valid JSON");
        }
        pnk_req_keep_json(req, req->json);
    }
    if (route->req_schema) {
        if (req->json == NULL)
            return pnk_fail(req, PN_E_INVALID, "request body is required");
        if (pnk_schema_validate(route->req_schema, req->json, on_schema_error, req, 50) > 0)
            return pnk_fail(req, PN_E_INVALID, "request body failed validation");
    }
    return PN_OK;
}

static int
run_route(pn_req_t *req, const char *origin)
{
    const pnk_route_t *route = req->route;
    int rc;

    if (req->err_code == PN_E_METHOD || req->err_code == PN_E_NOTFOUND ||
        req->err_code == PN_E_BADREQ) {
        uint32_t allowed = req->allowed;
        int code = req->err_code;
        req->err_code = 0;
        if (code == PN_E_NOTFOUND && !is_api_path(req->http->path) &&
            (req->http->method_id == PN_GET || req->http->method_id == PN_HEAD) && pnk_app.ui_dir)
            return pnk_static_serve(req);
        if (code == PN_E_BADREQ)
            return pnk_fail(req, PN_E_BADREQ, "malformed request path");
        if (code == PN_E_METHOD && req->http->method_id == PN_OPTIONS)
            return answer_options(req, allowed, origin);
        if (code == PN_E_METHOD) {
            char *allow = pnk_method_allow_list(allowed, req->arena);
            (void)pnk_reply_header(req, "Allow", allow ? allow : "");
            return pnk_fail(req, PN_E_METHOD, "method %s is not allowed on %s", req->http->method,
                            req->http->path);
        }
        return pnk_fail(req, PN_E_NOTFOUND, "no route for %s %s", req->http->method,
                        req->http->path);
    }
    if (req->http->method_id == 0)
        return pnk_fail(req, PN_E_METHOD, "method not supported");
    if (!(route->flags & PN_ROUTE_PUBLIC)) {
        if ((rc = pnk_auth_authenticate(req)) != PN_OK)
            return rc;
        if (route->perm && !pnk_req_can(req, route->perm))
            return pnk_fail(req, PN_E_FORBIDDEN, "permission %s is required", route->perm);
    }
    if ((rc = decode_body(req)) != PN_OK)
        return rc;
    req->plugin = route->owner_data;
    return route->fn(req);
}

static bool
has_header(const pnk_http_response_t *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return true;
    return false;
}

static void
render_error(pn_req_t *req)
{
    int code = req->err_code ? req->err_code : PN_E_INTERNAL;
    int status = pnk_err_status(code);
    const char *msg = req->err_msg;

    if (status >= 500) {
        /* The handler's words may carry internals: they go to the log, the client gets the
         * generic sentence and the request id to quote. */
        if (msg)
            PNK_ERROR("request", "status=%d route=%s error=\"%s\"", status,
                      req->route ? req->route->path : "-", msg);
        msg = pnk_err_message(code);
    }
    json_t *details = req->err_details ? json_incref(req->err_details) : NULL;
    json_t *doc = pnk_envelope_error(msg ? msg : pnk_err_message(code), details);
    size_t n = 0;
    char *buf = pnk_req_dump_json(req, doc, &n);

    if (buf) {
        req->resp->body = buf;
        req->resp->body_len = n;
    } else {
        static const char oom[] = "{\"success\":false,\"error\":\"internal error\",\"details\":[]}";
        req->resp->body = oom;
        req->resp->body_len = sizeof oom - 1;
        status = 500;
    }
    json_decref(doc);
    req->resp->status = status;
    (void)pnk_http_response_header(req->http, req->resp, "Content-Type", "application/json");
    if (code == PN_E_UNAVAILABLE && !has_header(req->resp, "Retry-After"))
        (void)pnk_http_response_header(req->http, req->resp, "Retry-After", "5");
}

/* A successful change through an admin route may change who can do what: every instance drops
 * its cached principals (auth/pcache.h). Coarse on purpose: such changes are rare. A change a
 * user makes to themselves (auth.self.*) drops only that user's entries. */
static void
note_identity_change(pn_req_t *req)
{
    int m = req->http->method_id;
    const char *perm = req->route ? req->route->perm : NULL;

    if (!perm || !(m == PN_POST || m == PN_PUT || m == PN_PATCH || m == PN_DELETE) ||
        req->resp->status >= 400)
        return;
    if (strncmp(perm, "admin.", 6) == 0)
        pnk_pcache_changed();
    else if (strncmp(perm, "auth.self.", 10) == 0 && req->principal.user_id)
        pnk_pcache_user_changed(req->principal.user_id);
}

void
pnk_dispatch_handle(void *ud, pnk_http_request_t *http, pnk_http_response_t *resp)
{
    (void)ud;
    pn_req_t *req = http->app_data;
    const char *rid;
    char idbuf[37];

    if (req == NULL) {
        resp->status = 500;
        return;
    }
    req->resp = resp;
    if (pnk_proxy_count(pnk_app.trusted_proxies) > 0)
        (void)pnk_req_client_ip(req); /* for the access log */
    rid = pnk_req_header(req, "X-Request-Id");
    if (!sane_request_id(rid)) {
        pnk_uuid_v7(idbuf);
        rid = pnk_arena_strdup(req->arena, idbuf);
    }
    req->request_id = rid;
    pnk_log_set_request(rid);

    const char *origin = allowed_origin(req);
    int rc = run_route(req, origin);

    if (!req->replied) {
        if (rc == PN_OK && req->err_code == 0) {
            PNK_ERROR("request", "handler returned without replying route=%s",
                      req->route ? req->route->path : "-");
            req->err_code = PN_E_INTERNAL;
        } else if (req->err_code == 0) {
            req->err_code = rc;
        }
        render_error(req);
    }
    /* A handler that left a transaction open loses it here, before the audit row is written,
     * so the row never claims a change that was not committed. */
    if (req->db && pnk_db_in_tx(req->db))
        pnk_req_db_rollback(req);
    pnk_audit_request(req);
    note_identity_change(req);
    if (req->db) {
        pnk_db_release(pnk_request_db(), req->db);
        req->db = NULL;
    }
    if (rid)
        (void)pnk_http_response_header(http, resp, "X-Request-Id", rid);
    if (origin)
        add_cors(req, origin);
    if (is_api_path(http->path)) {
        (void)pnk_http_response_header(http, resp, "Cache-Control", "no-store");
        (void)pnk_http_response_header(http, resp, "X-Content-Type-Options", "nosniff");
    }
    pnk_log_set_request(NULL);
}

void
pnk_dispatch_on_done(void *ud, const pnk_http_request_t *http, const pnk_http_response_t *resp,
                     double duration_ms)
{
    (void)ud;
    const pn_req_t *req = http->app_data;
    const char *route = req && req->route         ? req->route->path
                        : (resp && resp->fd >= 0) ? "(static)"
                                                  : "(unmatched)";
    int status = resp ? resp->status : 499;

    pnk_metrics_observe(&pnk_app.metrics, route, http->method_id, status, duration_ms);
    /* Behind a trusted proxy the access log names the client, not the proxy. */
    pnk_log_access(req ? req->request_id : NULL, http->method, http->path ? http->path : "-",
                   status, duration_ms, req && req->client_ip ? req->client_ip : http->peer);
}
