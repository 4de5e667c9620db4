/*
 * GET /api/v1/events: check the channel selection and Last-Event-ID, register a subscriber,
 * open the stream, replay the backlog and go live; then the handler thread is given back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app/request.h"
#include "../core/log.h"
#include "events_int.h"

#define MAX_CHANNELS 32

/* Split ?channels=a,b into arena strings; -1 (with the field error set) when one is bad. */
static int
parse_channels(pn_req_t *req, const char *raw, const char **out, size_t *n)
{
    *n = 0;
    if (raw == NULL || raw[0] == '\0')
        return 0;
    char *copy = pnk_req_strdup(req, raw);
    if (copy == NULL)
        return -1;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!pnk_events_channel_valid(tok)) {
            pnk_fail_field(req, "channels",
                           "\"%.80s\" is not a channel (system, audit or "
                           "<plugin>.<resource>)",
                           tok);
            return -1;
        }
        if (*n == MAX_CHANNELS) {
            pnk_fail_field(req, "channels", "at most %d channels", MAX_CHANNELS);
            return -1;
        }
        out[(*n)++] = tok;
    }
    return 0;
}

/* 503 with its reason: a capacity limit the operator may want to raise (events.max_streams),
 * so shown as it is rather than through pnk_fail. */
static int
full(pn_req_t *req)
{
    char msg[128];
    (void)snprintf(msg, sizeof msg,
                   "this server holds its maximum of %d event streams; retry later",
                   pnk_events_settings.max_streams);
    (void)pnk_reply_header(req, "Retry-After", "10");
    return pnk_reply_error_shown(req, 503, msg);
}

static int
events_stream(pn_req_t *req)
{
    const pnk_principal_t *p = &req->principal;
    const char *channels[MAX_CHANNELS];
    size_t nchannels;
    char permbuf[PNK_EVENTS_NAME_MAX + 16];
    pnk_event_id_t last;
    bool has_last = false;

    if (p->account_id == NULL || p->user_id == NULL)
        return pnk_fail(req, PN_E_FORBIDDEN, "events belong to an account's users");
    if (parse_channels(req, pnk_req_query(req, "channels"), channels, &nchannels) != 0)
        return pnk_fail(req, PN_E_INVALID, "invalid channel selection");
    /* Asking by name for a channel one may not see is refused rather than left silent. */
    for (size_t i = 0; i < nchannels; i++) {
        const char *perm = pnk_events_channel_perm(channels[i], permbuf, sizeof permbuf);
        if (!pnk_req_can(req, perm))
            return pnk_fail(req, PN_E_FORBIDDEN, "permission %s is required for channel %s", perm,
                            channels[i]);
    }
    const char *lid = pnk_req_header(req, "Last-Event-ID");
    if (lid == NULL || lid[0] == '\0')
        lid = pnk_req_query(req, "last_event_id");
    if (lid && lid[0]) {
        if (pnk_event_id_parse(lid, &last) != 0) {
            pnk_fail_field(req, "last_event_id", "must be an event id such as 1700000000000-0");
            return pnk_fail(req, PN_E_INVALID, "invalid Last-Event-ID");
        }
        has_last = true;
    }

    pnk_events_sub_t *sub =
        pnk_events_sub_new(p->account_id, p->user_id, p->all_perms, p->perms, p->nperms, channels,
                           nchannels, has_last ? &last : NULL);
    if (sub == NULL)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    int rc = pnk_events_hub_add(sub);
    if (rc != PN_OK) {
        pnk_events_sub_free(sub);
        if (rc == PN_E_RATELIMIT) {
            pnk_reply_header(req, "Retry-After", "5");
            return pnk_fail(req, rc, "too many open event streams (at most %d per user)",
                            pnk_events_settings.max_streams_per_user);
        }
        if (rc == PNK_EVENTS_HUB_FULL)
            return full(req);
        return pnk_fail(req, rc, "live events are not available");
    }

    req->resp->status = 200;
    pnk_http_response_header(req->http, req->resp, "Content-Type", "text/event-stream");
    /* nginx and similar proxies must pass events on as they come. */
    pnk_http_response_header(req->http, req->resp, "X-Accel-Buffering", "no");
    pnk_http_stream_t *st = pnk_http_stream_start(
        req->http, req->resp, pnk_events_settings.max_pending, pnk_events_on_close, sub);
    if (st == NULL) {
        pnk_events_hub_cancel(sub);
        req->resp->status = 0;
        req->resp->nheaders = 0;
        return pnk_fail(req, PN_E_INTERNAL, "cannot open the event stream");
    }
    req->replied = true;
    pnk_events_sub_attach(sub, st);
    static const char hello[] = "retry: 3000\n: connected\n\n";
    pnk_http_stream_write(st, hello, sizeof hello - 1);
    pnk_events_replay(sub);
    pnk_events_go_live(sub);
    return PN_OK;
}

const pn_route_t pnk_events_routes[] = {
    {PN_GET, "/api/v1/events", "events.stream.read", events_stream,
     "Live events of your account as server-sent events (?channels=a,b; Last-Event-ID resumes)", 0,
     NULL, NULL, 0},
    PN_ROUTE_END,
};

const pn_perm_t pnk_events_perms[] = {
    {"events.stream.read",
     "Receive live events (each event also needs the permission of its channel)", "Account"},
    PN_PERM_END,
};
