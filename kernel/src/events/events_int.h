/*
 * Private to kernel/src/events: the settings read at start, the Redis key names, and the hub
 * calls the route makes.
 */
#ifndef PNK_EVENTS_INT_H
#define PNK_EVENTS_INT_H

#include "../db/db.h"
#include "../http/http.h"
#include "events.h"

typedef struct pnk_events_settings {
    double heartbeat;         /* seconds between heartbeat comments */
    int max_streams_per_user; /* per server process */
    int max_streams;          /* all users together, per server process */
    size_t max_pending;       /* bytes held for one subscriber before it is dropped */
    int backlog;              /* events kept per account (XADD MAXLEN ~) */
    int backlog_ttl;          /* seconds the backlog of a quiet account is kept; 0 = always */
    double max_lifetime;      /* seconds before a stream is ended for the client to reconnect;
                                 0 = never */
} pnk_events_settings_t;

extern pnk_events_settings_t pnk_events_settings;

/* "pn:eventlog:<account>" (the backlog stream) and "pn:events:<account>" (the pub/sub
 * channel); malloc'd, NULL on ENOMEM. */
char *pnk_events_backlog_key(const char *account_id);
char *pnk_events_channel_key(const char *account_id);

/* "id: <id>\ndata: <event with id>\n\n" for a backlog entry (payload without id); malloc'd. */
char *pnk_events_sse_from_entry(const char *id, const char *payload, size_t len, size_t *out_len);

typedef struct pnk_events_sub pnk_events_sub_t;

/* A subscriber for one stream: copies of the principal's account, user and permissions and of
 * the channel selection. NULL on ENOMEM. */
pnk_events_sub_t *pnk_events_sub_new(const char *account_id, const char *user_id, bool all_perms,
                                     const char *const *perms, size_t nperms,
                                     const char *const *channels, size_t nchannels,
                                     const pnk_event_id_t *last);
/* Link it into the hub, replaying (live events are held back). PN_E_RATELIMIT when the user
 * already has max_streams_per_user streams here, PNK_EVENTS_HUB_FULL (positive) when this process
 * holds max_streams streams, PN_E_UNAVAILABLE when the hub is not running. On failure the caller
 * still owns sub (free with pnk_events_sub_free). */
#define PNK_EVENTS_HUB_FULL 1
int pnk_events_hub_add(pnk_events_sub_t *sub);
/* Unlink a sub whose stream never started, and free it. */
void pnk_events_hub_cancel(pnk_events_sub_t *sub);
void pnk_events_sub_free(pnk_events_sub_t *sub);
/* The stream now exists (handler thread, before returning). */
void pnk_events_sub_attach(pnk_events_sub_t *sub, pnk_http_stream_t *st);
/* Send the backlog after the sub's last id (handler thread). Stops early, ending the stream
 * for the client to resume, when it would fill more than half of max_pending. */
void pnk_events_replay(pnk_events_sub_t *sub);
/* End the replay: send the held-back live events that are newer, and go live. */
void pnk_events_go_live(pnk_events_sub_t *sub);
/* The stream's on_close. */
void pnk_events_on_close(void *ud);

/* The worker that publishes audit rows written inside transactions once committed
 * (events_audit.c). Stop drains what was handed over. */
int pnk_events_audit_start(pnk_db_pool_t *db);
void pnk_events_audit_stop(void);

#endif
