/*
 * The hub: the process's one pattern subscription (pn:events:*), the open streams and what
 * each may see, backlog replay with hand-over to live delivery, heartbeats, and the "events"
 * config section. All subscriber state is under one mutex; writes to a stream never block.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/log.h"
#include "../redis/redis.h"
#include "events_int.h"

/* Live events held back while one subscriber replays; more and it is ended to resume. */
#define HELD_MAX 512
/* Backlog entries fetched per XRANGE and the most fetched for one replay. */
#define REPLAY_PAGE 100
#define REPLAY_PAGES_MAX 200

pnk_events_settings_t pnk_events_settings = {.heartbeat = 15,
                                             .max_streams_per_user = 10,
                                             .max_streams = 512,
                                             .max_pending = 262144,
                                             .backlog = 1000,
                                             .backlog_ttl = 86400,
                                             .max_lifetime = 900};

typedef struct held_ev {
    struct held_ev *next;
    pnk_event_id_t id;
    size_t len;
    char text[]; /* the SSE block */
} held_ev_t;

struct pnk_events_sub {
    pnk_events_sub_t *prev, *next;
    bool linked;
    pnk_http_stream_t *st; /* NULL until attached */
    bool released;         /* the hub gave its stream reference back */
    char *account_id, *user_id;
    bool all_perms;
    char **perms;
    size_t nperms;
    char **channels;
    size_t nchannels;
    pnk_event_id_t last; /* newest id sent or skipped */
    bool has_last;       /* the client sent Last-Event-ID: replay after it */
    bool replaying;
    held_ev_t *held, *held_tail;
    size_t nheld;
    bool overflow;
    double deadline; /* monotonic; 0 = none */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pnk_events_sub_t *subs;
    int nsubs;
    bool running, stop, hb_started;
    pnk_redis_sub_t *rsub;
    pthread_t hb;
} hub = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const pn_config_key_t event_keys[] = {
    {"heartbeat", PN_CFG_DOUBLE, "15", 0.05, 3600,
     "seconds between heartbeat comments on open event streams"},
    {"max_streams_per_user", PN_CFG_INT, "10", 1, 1000,
     "open event streams per user and server process (429 beyond)"},
    {"max_streams", PN_CFG_INT, "512", 1, 100000,
     "open event streams per server process, all users (503 beyond); keep it below "
     "http.max_connections so ordinary requests still get through"},
    {"max_pending", PN_CFG_INT, "262144", 131072, 67108864,
     "bytes held for a subscriber that does not keep up before it is dropped"},
    {"backlog", PN_CFG_INT, "1000", 10, 1000000, "events kept per account for Last-Event-ID"},
    {"backlog_ttl", PN_CFG_INT, "86400", 0, 31536000,
     "seconds the backlog of a quiet account is kept (0 = always)"},
    {"max_lifetime", PN_CFG_DOUBLE, "900", 0, 86400,
     "seconds before a stream ends so the client reconnects with fresh credentials (0 = never)"},
    PN_CONFIG_END,
};

static double
mono(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *
pnk_events_backlog_key(const char *account_id)
{
    size_t n = strlen(account_id) + 16;
    char *k = malloc(n);

    if (k)
        (void)snprintf(k, n, "pn:eventlog:%s", account_id);
    return k;
}

char *
pnk_events_channel_key(const char *account_id)
{
    size_t n = strlen(account_id) + 16;
    char *k = malloc(n);

    if (k)
        (void)snprintf(k, n, "pn:events:%s", account_id);
    return k;
}

/* SSE data lines end at CR or LF: a payload holding one would be cut into two. */
static bool
one_line(const char *s, size_t n)
{
    return memchr(s, '\n', n) == NULL && memchr(s, '\r', n) == NULL;
}

char *
pnk_events_sse_from_entry(const char *id, const char *payload, size_t len, size_t *out_len)
{
    size_t idn = strlen(id), n = idn * 2 + len + 32;
    char *t;

    if (len < 2 || payload[0] != '{' || !one_line(payload, len) || !one_line(id, idn) ||
        (t = malloc(n)) == NULL)
        return NULL;
    int k = snprintf(t, n, "id: %s\ndata: {\"id\":\"%s\",%.*s\n\n", id, id, (int)(len - 1),
                     payload + 1);
    if (k < 0 || (size_t)k >= n) {
        free(t);
        return NULL;
    }
    *out_len = (size_t)k;
    return t;
}

static void
filter_of(const pnk_events_sub_t *s, pnk_events_filter_t *f)
{
    f->account_id = s->account_id;
    f->all_perms = s->all_perms;
    f->perms = (const char *const *)s->perms;
    f->nperms = s->nperms;
    f->channels = (const char *const *)s->channels;
    f->nchannels = s->nchannels;
}

static void
free_held(pnk_events_sub_t *s)
{
    while (s->held) {
        held_ev_t *h = s->held;
        s->held = h->next;
        free(h);
    }
    s->held_tail = NULL;
    s->nheld = 0;
}

static char **
copy_list(const char *const *src, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof(*out));

    for (size_t i = 0; out && i < n; i++) {
        if ((out[i] = strdup(src[i])) == NULL) {
            while (i--)
                free(out[i]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void
free_list(char **l, size_t n)
{
    for (size_t i = 0; l && i < n; i++)
        free(l[i]);
    free(l);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

pnk_events_sub_t *
pnk_events_sub_new(const char *account_id, const char *user_id, bool all_perms,
                   const char *const *perms, size_t nperms, const char *const *channels,
                   size_t nchannels, const pnk_event_id_t *last)
{
    pnk_events_sub_t *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->account_id = strdup(account_id);
    s->user_id = strdup(user_id ? user_id : "");
    s->all_perms = all_perms;
    s->perms = copy_list(perms, all_perms ? 0 : nperms);
    s->nperms = all_perms ? 0 : nperms;
    s->channels = copy_list(channels, nchannels);
    s->nchannels = nchannels;
    s->replaying = true;
    if (last) {
        s->last = *last;
        s->has_last = true;
    }
    if (pnk_events_settings.max_lifetime > 0)
        s->deadline = mono() + pnk_events_settings.max_lifetime;
    if (s->account_id == NULL || s->user_id == NULL || s->perms == NULL || s->channels == NULL) {
        pnk_events_sub_free(s);
        return NULL;
    }
    /* The filter bsearches; the principal's list is sorted already, but that is its business. */
    qsort(s->perms, s->nperms, sizeof(*s->perms), cmp_str);
    return s;
}

void
pnk_events_sub_free(pnk_events_sub_t *s)
{
    if (s == NULL)
        return;
    free(s->account_id);
    free(s->user_id);
    free_list(s->perms, s->nperms);
    free_list(s->channels, s->nchannels);
    free_held(s);
    free(s);
}

/* Under mu. */
static void
unlink_sub(pnk_events_sub_t *s)
{
    if (!s->linked)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        hub.subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->linked = false;
    hub.nsubs--;
}

/* Under mu: end the stream from our side (it flushes, then on_close frees the sub). */
static void
end_stream(pnk_events_sub_t *s)
{
    if (s->released || s->st == NULL)
        return;
    s->released = true;
    pnk_http_stream_close(s->st);
}

int
pnk_events_hub_add(pnk_events_sub_t *sub)
{
    int n = 0;

    pthread_mutex_lock(&hub.mu);
    if (!hub.running) {
        pthread_mutex_unlock(&hub.mu);
        return PN_E_UNAVAILABLE;
    }
    for (pnk_events_sub_t *s = hub.subs; s; s = s->next)
        if (strcmp(s->user_id, sub->user_id) == 0)
            n++;
    if (n >= pnk_events_settings.max_streams_per_user) {
        pthread_mutex_unlock(&hub.mu);
        return PN_E_RATELIMIT;
    }
    if (hub.nsubs >= pnk_events_settings.max_streams) {
        pthread_mutex_unlock(&hub.mu);
        return PNK_EVENTS_HUB_FULL;
    }
    sub->next = hub.subs;
    if (hub.subs)
        hub.subs->prev = sub;
    hub.subs = sub;
    sub->linked = true;
    hub.nsubs++;
    pthread_mutex_unlock(&hub.mu);
    return PN_OK;
}

void
pnk_events_hub_cancel(pnk_events_sub_t *sub)
{
    pthread_mutex_lock(&hub.mu);
    unlink_sub(sub);
    pthread_mutex_unlock(&hub.mu);
    pnk_events_sub_free(sub);
}

void
pnk_events_sub_attach(pnk_events_sub_t *sub, pnk_http_stream_t *st)
{
    pthread_mutex_lock(&hub.mu);
    sub->st = st;
    pthread_mutex_unlock(&hub.mu);
}

void
pnk_events_on_close(void *ud)
{
    pnk_events_sub_t *s = ud;
    bool released;

    pthread_mutex_lock(&hub.mu);
    unlink_sub(s);
    released = s->released;
    s->released = true;
    pthread_mutex_unlock(&hub.mu);
    if (!released && s->st)
        pnk_http_stream_close(s->st);
    pnk_events_sub_free(s);
}

/* Under mu: one live event for one subscriber of its account. */
static void
deliver(pnk_events_sub_t *s, const pnk_event_id_t *id, const char *channel, const char *perm,
        const char *text, size_t len)
{
    pnk_events_filter_t f;

    if (s->released || s->overflow)
        return;
    filter_of(s, &f);
    bool visible = pnk_events_visible(&f, s->account_id, channel, perm);
    if (s->replaying) {
        if (!visible)
            return;
        held_ev_t *h = s->nheld < HELD_MAX ? malloc(sizeof(*h) + len) : NULL;
        if (h == NULL) {
            s->overflow = true; /* go_live ends the stream; the client resumes from its id */
            free_held(s);
            return;
        }
        h->next = NULL;
        h->id = *id;
        h->len = len;
        memcpy(h->text, text, len);
        if (s->held_tail)
            s->held_tail->next = h;
        else
            s->held = h;
        s->held_tail = h;
        s->nheld++;
        return;
    }
    if (pnk_event_id_cmp(id, &s->last) <= 0)
        return; /* already sent by the replay */
    s->last = *id;
    if (visible && s->st)
        pnk_http_stream_write(s->st, text, len); /* a failure drops the stream: on_close */
}

static void
on_message(void *ud, const char *channel, const char *msg, size_t len)
{
    json_error_t e;
    pnk_event_id_t id;
    char permbuf[PNK_EVENTS_NAME_MAX + 16];

    (void)ud;
    (void)channel;
    json_t *ev = json_loadb(msg, len, 0, &e);
    const char *sid = json_string_value(json_object_get(ev, "id"));
    const char *ch = json_string_value(json_object_get(ev, "channel"));
    const char *acct = json_string_value(json_object_get(ev, "account_id"));
    const char *perm = json_string_value(json_object_get(ev, "permission"));
    if (perm == NULL)
        perm = pnk_events_channel_perm(ch, permbuf, sizeof permbuf);
    if (!json_is_object(ev) || sid == NULL || acct == NULL || perm == NULL ||
        !pnk_events_channel_valid(ch) || pnk_event_id_parse(sid, &id) != 0 || !one_line(msg, len)) {
        PNK_WARN("events", "ignoring a malformed event on %s", channel);
        json_decref(ev);
        return;
    }
    size_t n = strlen(sid) + len + 24;
    char *text = malloc(n);
    int k = text ? snprintf(text, n, "id: %s\ndata: %.*s\n\n", sid, (int)len, msg) : -1;
    if (k > 0 && (size_t)k < n) {
        pthread_mutex_lock(&hub.mu);
        for (pnk_events_sub_t *s = hub.subs; s; s = s->next)
            if (strcmp(s->account_id, acct) == 0)
                deliver(s, &id, ch, perm, text, (size_t)k);
        pthread_mutex_unlock(&hub.mu);
    }
    free(text);
    json_decref(ev);
}

/* One backlog entry [id, [field, value, ...]] for the replay; 1 sent or skipped, 0 stop (the
 * budget is spent), -1 malformed. */
static int
replay_entry(pnk_events_sub_t *s, json_t *entry, size_t *used, size_t budget)
{
    const char *sid = json_string_value(json_array_get(entry, 0));
    json_t *fields = json_array_get(entry, 1);
    const char *payload = NULL;
    size_t plen = 0, tlen = 0;
    pnk_event_id_t id;
    char permbuf[PNK_EVENTS_NAME_MAX + 16];

    for (size_t i = 0; i + 1 < json_array_size(fields); i += 2) {
        const char *name = json_string_value(json_array_get(fields, i));
        if (name && strcmp(name, "e") == 0) {
            payload = json_string_value(json_array_get(fields, i + 1));
            plen = json_string_length(json_array_get(fields, i + 1));
        }
    }
    if (sid == NULL || payload == NULL || pnk_event_id_parse(sid, &id) != 0)
        return -1;
    json_t *ev = json_loadb(payload, plen, 0, NULL);
    const char *ch = json_string_value(json_object_get(ev, "channel"));
    const char *acct = json_string_value(json_object_get(ev, "account_id"));
    const char *perm = json_string_value(json_object_get(ev, "permission"));
    if (perm == NULL)
        perm = pnk_events_channel_perm(ch, permbuf, sizeof permbuf);
    pnk_events_filter_t f;
    filter_of(s, &f);
    bool visible = pnk_events_visible(&f, acct, ch, perm);
    char *text = visible ? pnk_events_sse_from_entry(sid, payload, plen, &tlen) : NULL;
    json_decref(ev);
    if (visible && text == NULL)
        return -1;
    if (text && *used + tlen > budget) {
        free(text);
        return 0;
    }
    if (text) {
        pnk_http_stream_write(s->st, text, tlen);
        *used += tlen;
        free(text);
    }
    pthread_mutex_lock(&hub.mu);
    s->last = id;
    pthread_mutex_unlock(&hub.mu);
    return 1;
}

void
pnk_events_replay(pnk_events_sub_t *s)
{
    char start[64], count[16], err[256];
    char *key = pnk_events_backlog_key(s->account_id);
    size_t used = 0, budget = pnk_events_settings.max_pending / 2;
    bool more = s->has_last, stop = false;

    (void)snprintf(count, sizeof count, "%d", REPLAY_PAGE);
    (void)snprintf(start, sizeof start, "(%llu-%llu", (unsigned long long)s->last.ms,
                   (unsigned long long)s->last.seq);
    for (int page = 0; more && !stop && key && page < REPLAY_PAGES_MAX; page++) {
        const char *argv[] = {"XRANGE", key, start, "+", "COUNT", count};
        json_t *reply = NULL;
        if (pnk_redis_command(PNK_REDIS_CACHE, 6, argv, NULL, &reply, err, sizeof err) != PN_OK ||
            !json_is_array(reply)) {
            PNK_WARN("events", "backlog replay failed: %s", err);
            json_decref(reply);
            stop = true;
            break;
        }
        size_t n = json_array_size(reply);
        for (size_t i = 0; i < n && !stop; i++) {
            int r = replay_entry(s, json_array_get(reply, i), &used, budget);
            if (r == 0)
                stop = true;
            else if (r < 0)
                PNK_WARN("events", "skipping a malformed backlog entry");
        }
        more = n == REPLAY_PAGE;
        (void)snprintf(start, sizeof start, "(%llu-%llu", (unsigned long long)s->last.ms,
                       (unsigned long long)s->last.seq);
        json_decref(reply);
    }
    free(key);
    if (stop) { /* the client resumes from the last id it got */
        pthread_mutex_lock(&hub.mu);
        s->overflow = true;
        pthread_mutex_unlock(&hub.mu);
    }
}

void
pnk_events_go_live(pnk_events_sub_t *s)
{
    pthread_mutex_lock(&hub.mu);
    if (s->overflow) {
        free_held(s);
        end_stream(s);
    } else {
        for (held_ev_t *h = s->held; h; h = h->next) {
            if (pnk_event_id_cmp(&h->id, &s->last) <= 0)
                continue;
            s->last = h->id;
            pnk_http_stream_write(s->st, h->text, h->len);
        }
        free_held(s);
    }
    s->replaying = false;
    pthread_mutex_unlock(&hub.mu);
}

static void *
heartbeat_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&hub.mu);
    while (!hub.stop) {
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        double when = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + pnk_events_settings.heartbeat;
        ts.tv_sec = (time_t)when;
        ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
        while (!hub.stop && pthread_cond_timedwait(&hub.cv, &hub.mu, &ts) == 0) {
        }
        if (hub.stop)
            break;
        double now = mono();
        for (pnk_events_sub_t *s = hub.subs; s; s = s->next) {
            if (s->released || s->st == NULL || s->replaying)
                continue;
            if (s->deadline > 0 && now >= s->deadline)
                end_stream(s);
            else
                pnk_http_stream_write(s->st, ": heartbeat\n\n", 13);
        }
    }
    pthread_mutex_unlock(&hub.mu);
    return NULL;
}

int
pnk_events_start(pnk_config_t *config, pnk_db_pool_t *db, char *err, size_t errlen)
{
    pthread_condattr_t ca;

    if (pnk_config_declare(config, "events", event_keys, sizeof event_keys[0], NULL, err, errlen) !=
        0)
        return -1;
    pnk_events_settings.heartbeat = pnk_config_double(config, "events", "heartbeat");
    pnk_events_settings.max_streams_per_user =
        (int)pnk_config_int(config, "events", "max_streams_per_user");
    pnk_events_settings.max_streams = (int)pnk_config_int(config, "events", "max_streams");
    pnk_events_settings.max_pending = (size_t)pnk_config_int(config, "events", "max_pending");
    pnk_events_settings.backlog = (int)pnk_config_int(config, "events", "backlog");
    pnk_events_settings.backlog_ttl = (int)pnk_config_int(config, "events", "backlog_ttl");
    pnk_events_settings.max_lifetime = pnk_config_double(config, "events", "max_lifetime");

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&hub.cv, &ca);
    pthread_condattr_destroy(&ca);
    hub.stop = false;
    hub.rsub = pnk_redis_subscribe("pn:events:*", on_message, NULL);
    if (hub.rsub == NULL) {
        (void)snprintf(err, errlen, "events: cannot subscribe to pn:events:*");
        pthread_cond_destroy(&hub.cv);
        return -1;
    }
    if (pthread_create(&hub.hb, NULL, heartbeat_main, NULL) != 0) {
        (void)snprintf(err, errlen, "events: cannot start the heartbeat thread");
        pnk_redis_unsubscribe(hub.rsub);
        hub.rsub = NULL;
        pthread_cond_destroy(&hub.cv);
        return -1;
    }
    hub.hb_started = true;
    if (pnk_events_audit_start(db) != 0) {
        (void)snprintf(err, errlen, "events: cannot start the audit worker");
        pnk_events_stop();
        return -1;
    }
    pthread_mutex_lock(&hub.mu);
    hub.running = true;
    pthread_mutex_unlock(&hub.mu);
    PNK_INFO("events", "hub started heartbeat=%.2fs backlog=%d max_pending=%zu",
             pnk_events_settings.heartbeat, pnk_events_settings.backlog,
             pnk_events_settings.max_pending);
    return 0;
}

void
pnk_events_stop(void)
{
    if (!hub.hb_started)
        return;
    pnk_events_audit_stop();
    pthread_mutex_lock(&hub.mu);
    hub.running = false;
    hub.stop = true;
    pthread_cond_broadcast(&hub.cv);
    pthread_mutex_unlock(&hub.mu);
    pthread_join(hub.hb, NULL);
    hub.hb_started = false;
    pnk_redis_unsubscribe(hub.rsub);
    hub.rsub = NULL;
    pthread_cond_destroy(&hub.cv);
    pthread_mutex_lock(&hub.mu);
    if (hub.subs)
        PNK_WARN("events", "streams still open at stop; left to the HTTP server");
    pthread_mutex_unlock(&hub.mu);
}
