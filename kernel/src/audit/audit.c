/* Audit rows for explicit events and for every mutating request; see audit.h. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../events/events.h"

/* The client (behind trusted proxies, see request.h); NULL when it is not an address. */
static const char *
peer_ip(pn_req_t *req)
{
    const char *ip = pnk_req_client_ip(req);
    return strcmp(ip, "-") == 0 ? NULL : ip;
}

int
pnk_audit_record(pn_req_t *req, const pnk_audit_event_t *ev)
{
    const char *account = ev->account_id ? ev->account_id : req->principal.account_id;
    const char *user = ev->user_id ? ev->user_id : req->principal.user_id;
    const char *ua = pnk_req_header(req, "User-Agent");
    char id[37], *details;
    int rc;

    details = ev->details ? json_dumps(ev->details, JSON_COMPACT) : NULL;
    json_decref(ev->details);
    if (account == NULL) {
        PNK_INFO("audit", "action=%s result=%s target=%s:%s (no account)", ev->action, ev->result,
                 ev->target_type ? ev->target_type : "-", ev->target_id ? ev->target_id : "-");
        free(details);
        return PN_OK;
    }
    pnk_uuid_v7(id);
    const char *params[] = {id,
                            account,
                            user,
                            ev->action,
                            ev->target_type,
                            ev->target_id,
                            peer_ip(req),
                            ua ? pnk_arena_strndup(req->arena, ua, 512) : NULL,
                            ev->result,
                            details ? details : "{}"};
    /* The error slot must survive: an audit failure is not the request's failure. */
    int saved_code = req->err_code;
    char *saved_msg = req->err_msg;
    rc = pnk_req_db_query(req,
                          "INSERT INTO audit_logs (id, account_id, user_id, action, target_type, "
                          "target_id, ip, user_agent, result, details) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7::inet, $8, $9, $10::jsonb)",
                          10, params, NULL);
    req->err_code = saved_code;
    req->err_msg = saved_msg;
    free(details);
    if (rc != PN_OK)
        PNK_WARN("audit", "not recorded action=%s result=%s code=%d", ev->action, ev->result, rc);
    else /* the live "audit" channel (kernel/src/events) */
        pnk_events_audit(req, id, account, user, ev->action, ev->target_type, ev->target_id,
                         ev->result);
    return rc;
}

/* The kind of thing a route changes: the path segment before ":id" ("/api/v1/users/:id" ->
 * "users"), else the last literal segment ("/api/v1/roles" -> "roles"). */
static const char *
target_type(pn_req_t *req, const char *path)
{
    const char *id = strstr(path, "/:id");
    const char *end = id ? id : path + strlen(path);
    const char *start = end;

    while (start > path && start[-1] != '/')
        start--;
    if (start == end || *start == ':' || *start == '*')
        return NULL;
    return pnk_arena_strndup(req->arena, start, (size_t)(end - start));
}

void
pnk_audit_request(pn_req_t *req)
{
    int m = req->http->method_id;
    const pnk_route_t *route = req->route;

    if (route == NULL || !(m == PN_POST || m == PN_PUT || m == PN_PATCH || m == PN_DELETE))
        return;
    if (req->principal.kind != PNK_PRINCIPAL_USER && req->principal.kind != PNK_PRINCIPAL_APIKEY)
        return;
    int status = req->resp->status;
    const char *result = status < 400                       ? "success"
                         : (status == 401 || status == 403) ? "denied"
                                                            : "failure";
    char action[160];
    (void)snprintf(action, sizeof action, "%s", route->perm ? route->perm : route->path);
    pnk_audit_event_t ev = {
        .action = action,
        .target_type = target_type(req, route->path),
        .target_id = pnk_req_param(req, "id"),
        .result = result,
        .details = json_pack("{s:s, s:s, s:i}", "method", req->http->method, "route", route->path,
                             "status", status),
    };
    pnk_audit_record(req, &ev);
}
