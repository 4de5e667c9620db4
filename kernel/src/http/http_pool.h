/*
 * The handler thread pool: a bounded queue of jobs, N threads running them, and a completion
 * list handed back to the loop thread through one libevent user event.
 */
#ifndef PNK_HTTP_POOL_H
#define PNK_HTTP_POOL_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

typedef struct pnk_http_job {
    struct pnk_http_job *next;
} pnk_http_job_t;

typedef struct pnk_http_pool pnk_http_pool_t;

/* run: called on a pool thread for each job. done: called on the loop thread (from the
 * base's event) for each finished job, in completion order. */
pnk_http_pool_t *pnk_http_pool_new(struct event_base *base, int threads, size_t max_queue,
                                   void (*run)(pnk_http_job_t *, void *),
                                   void (*done)(pnk_http_job_t *, void *), void *ud);
/* Queue a job; -1 when the queue is full (the caller answers 503). Loop thread. */
int pnk_http_pool_submit(pnk_http_pool_t *p, pnk_http_job_t *job);
/* Jobs waiting in the queue now (any thread). */
size_t pnk_http_pool_queued(pnk_http_pool_t *p);
/* Remove job from the queue if it has not started; true if it was removed. Loop thread. */
bool pnk_http_pool_cancel(pnk_http_pool_t *p, pnk_http_job_t *job);
/* Threads take no new job after this; running ones finish. */
void pnk_http_pool_pause(pnk_http_pool_t *p);
/* Pause, join the threads, and hand back (linked by next) every job that never ran or whose
 * done was never called, for the caller to free. Then free the pool. */
pnk_http_job_t *pnk_http_pool_free(pnk_http_pool_t *p);

#endif
