/*
 * Live events: publishing (a Redis stream per account as the backlog plus pub/sub for fan-out,
 * written by one Lua script), the per-process hub that holds one pattern subscription and
 * the open server-sent-event streams, and GET /api/v1/events. See README.md for the channel
 * and permission rules and the wire format.
 */
#ifndef PNK_EVENTS_H
#define PNK_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <powernode/host.h>

#include "../config/config.h"

/* Longest channel and type names, and the largest serialized event. */
#define PNK_EVENTS_NAME_MAX 64
#define PNK_EVENTS_MAX_BYTES 65536 /* 64 KiB */

/* A Redis stream entry id "<ms>-<seq>". */
typedef struct pnk_event_id {
    uint64_t ms, seq;
} pnk_event_id_t;

/* ---- channels and permissions (events_channel.c, pure) ---- */

/* Whether channel is a kernel channel ("system", "audit") or "<owner>.<resource>", both parts
 * [a-z][a-z0-9_]*, at most PNK_EVENTS_NAME_MAX bytes in all. */
bool pnk_events_channel_valid(const char *channel);
/* The permission a subscriber needs to see events of channel: "system" -> admin.system.read,
 * "audit" -> admin.audit_logs.read, "<owner>.<resource>" -> "<owner>.<resource>.read".
 * Written to buf; NULL when the channel is not valid or buf is too small. */
const char *pnk_events_channel_perm(const char *channel, char *buf, size_t n);
/* Whether an event type is [a-z0-9_.-]{1,64}. */
bool pnk_events_type_valid(const char *type);
/* Parse "<ms>-<seq>" (both decimal, no sign). 0 or -1. */
int pnk_event_id_parse(const char *s, pnk_event_id_t *out);
/* <0, 0, >0 like strcmp. */
int pnk_event_id_cmp(const pnk_event_id_t *a, const pnk_event_id_t *b);

/* What one subscriber may see. perms is sorted (strcmp) unless all_perms. */
typedef struct pnk_events_filter {
    const char *account_id;
    bool all_perms;
    const char *const *perms;
    size_t nperms;
    const char *const *channels; /* the selection; nchannels 0 means every channel */
    size_t nchannels;
} pnk_events_filter_t;

/* Same account, a selected channel, and the permission held. */
bool pnk_events_visible(const pnk_events_filter_t *f, const char *account_id, const char *channel,
                        const char *perm);

/* ---- publishing (events_publish.c) ---- */

/* Publish one event for account_id: appended to the account's backlog (XADD MAXLEN ~) and
 * published with the same payload and its stream id, atomically (one Lua script). Steals
 * data. id_out (may be NULL) gets the stream id. PN_E_INVALID for a bad channel or type or an
 * event over PNK_EVENTS_MAX_BYTES, PN_E_UNAVAILABLE when Redis is down. Any thread. */
int pnk_events_publish(const char *account_id, const char *channel, const char *type, json_t *data,
                       char id_out[48], char *err, size_t errlen);

struct pn_req;
/* The audit trail's hook (called by pnk_audit_record after a row was written): publish the
 * row on channel "audit". A row written inside an open transaction is published after
 * the request ended, and only if it was committed (a worker thread checks). Never fails the
 * caller. */
void pnk_events_audit(struct pn_req *req, const char *id, const char *account_id,
                      const char *user_id, const char *action, const char *target_type,
                      const char *target_id, const char *result);

/* ---- the hub (events_hub.c) ---- */

/* Declare the "events" config section and start the hub: one PSUBSCRIBE pn:events:*, the
 * heartbeat thread and the audit worker (which reads audit_logs through db). Call after
 * pnk_redis_init and the pool, and before the config is checked for unknown keys. 0, or -1
 * with err. */
struct pnk_db_pool;
int pnk_events_start(pnk_config_t *config, struct pnk_db_pool *db, char *err, size_t errlen);
/* Stop the audit worker (after it published what it was handed), the subscription and the
 * heartbeat thread. Call after the HTTP server is freed (every
 * stream has ended by then) and before pnk_redis_shutdown. Safe when start never ran. */
void pnk_events_stop(void);

/* GET /api/v1/events and its permission. */
extern const pn_route_t pnk_events_routes[];
extern const pn_perm_t pnk_events_perms[];

#endif
