/*
 * The audit trail's events: every audit row is published on channel "audit" once it is known
 * to be committed. A row written outside a transaction is published at once; one written
 * inside a transaction waits for the request to end (its arena is freed only after the
 * dispatcher committed or rolled back) and is then checked and published by a worker thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../app/request.h"
#include "../core/log.h"
#include "../db/db.h"
#include "events_int.h"

/* Rows waiting for their request to end; more are dropped (and logged). */
#define QUEUE_MAX 10000
/* Rows checked with one query. */
#define BATCH 64

typedef struct held {
    struct held *next;
    char id[37];
    char *account;
    json_t *data;
} held_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    held_t *head, *tail;
    size_t n;
    bool running, stop;
    pthread_t thread;
    pnk_db_pool_t *db;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void
held_free(held_t *h)
{
    free(h->account);
    json_decref(h->data);
    free(h);
}

static void
publish_audit(const char *account, json_t *data)
{
    char err[256];
    int rc = pnk_events_publish(account, "audit", "audit_log.created", data, NULL, err, sizeof err);

    if (rc != PN_OK)
        PNK_WARN("events", "audit event not published: %s", err);
}

/* Arena cleanup, on the loop thread: hand the row to the worker without blocking. */
static void
enqueue(void *arg)
{
    held_t *h = arg;

    pthread_mutex_lock(&q.mu);
    if (!q.running || q.n >= QUEUE_MAX) {
        pthread_mutex_unlock(&q.mu);
        PNK_WARN("events", "audit event dropped (queue full or stopped) row=%s", h->id);
        held_free(h);
        return;
    }
    h->next = NULL;
    if (q.tail)
        q.tail->next = h;
    else
        q.head = h;
    q.tail = h;
    q.n++;
    pthread_cond_signal(&q.cv);
    pthread_mutex_unlock(&q.mu);
}

/* Publish the rows of list that were committed, in order, and free the list. */
static void
check_and_publish(held_t *list)
{
    char ids[BATCH * 38 + 4], err[256];
    size_t n = 0;
    pnk_db_conn_t *c = NULL;
    pn_rows_t *rows = NULL;
    pnk_arena_t *a = pnk_arena_new(4096);

    n += (size_t)snprintf(ids, sizeof ids, "{");
    for (held_t *h = list; h; h = h->next)
        n += (size_t)snprintf(ids + n, sizeof ids - n, "%s%s", n > 1 ? "," : "", h->id);
    (void)snprintf(ids + n, sizeof ids - n, "}");
    const char *params[] = {ids};
    int rc = a ? pnk_db_acquire(q.db, &c, err, sizeof err) : PN_E_INTERNAL;
    if (rc == PN_OK) {
        rc = pnk_db_exec(c, "SELECT id::text FROM audit_logs WHERE id = ANY($1::uuid[])", 1, params,
                         a, &rows, err, sizeof err);
        pnk_db_release(q.db, c);
    }
    if (rc != PN_OK)
        PNK_WARN("events", "audit events not published: cannot check their rows");
    while (list) {
        held_t *h = list;
        list = h->next;
        bool found = false;
        for (int i = 0; rc == PN_OK && i < pnk_rows_count(rows) && !found; i++)
            found = strcmp(pnk_rows_value(rows, i, 0), h->id) == 0;
        if (found) {
            publish_audit(h->account, h->data);
            h->data = NULL;
        }
        held_free(h);
    }
    pnk_arena_free(a);
}

static void *
worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q.mu);
    for (;;) {
        while (!q.stop && q.head == NULL)
            pthread_cond_wait(&q.cv, &q.mu);
        if (q.head == NULL) /* stopping, and everything handed over was handled */
            break;
        held_t *batch = q.head, *last = batch;
        size_t k = 1;
        while (last->next && k < BATCH) {
            last = last->next;
            k++;
        }
        q.head = last->next;
        if (q.head == NULL)
            q.tail = NULL;
        last->next = NULL;
        q.n -= k;
        pthread_mutex_unlock(&q.mu);
        check_and_publish(batch);
        pthread_mutex_lock(&q.mu);
    }
    pthread_mutex_unlock(&q.mu);
    return NULL;
}

int
pnk_events_audit_start(pnk_db_pool_t *db)
{
    q.db = db;
    q.stop = false;
    if (db == NULL || pthread_create(&q.thread, NULL, worker, NULL) != 0)
        return -1;
    pthread_mutex_lock(&q.mu);
    q.running = true;
    pthread_mutex_unlock(&q.mu);
    return 0;
}

void
pnk_events_audit_stop(void)
{
    pthread_mutex_lock(&q.mu);
    bool was = q.running;
    q.running = false;
    q.stop = true;
    pthread_cond_broadcast(&q.cv);
    pthread_mutex_unlock(&q.mu);
    if (was)
        pthread_join(q.thread, NULL);
}

void
pnk_events_audit(pn_req_t *req, const char *id, const char *account_id, const char *user_id,
                 const char *action, const char *target_type, const char *target_id,
                 const char *result)
{
    if (id == NULL || account_id == NULL)
        return;
    json_t *data = json_pack("{s:s, s:s?, s:s, s:s?, s:s?, s:s}", "id", id, "user_id", user_id,
                             "action", action ? action : "", "target_type", target_type,
                             "target_id", target_id, "result", result ? result : "");
    if (data == NULL)
        return;
    if (!(req->db && pnk_db_in_tx(req->db))) {
        publish_audit(account_id, data);
        return;
    }
    held_t *h = calloc(1, sizeof(*h));
    if (h == NULL || (h->account = strdup(account_id)) == NULL) {
        free(h);
        json_decref(data);
        return;
    }
    (void)snprintf(h->id, sizeof h->id, "%s", id);
    h->data = data;
    if (pnk_arena_defer(req->arena, enqueue, h) != 0)
        held_free(h);
}
