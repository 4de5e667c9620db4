/*
 * Handler threads. The queue and the completion list each have their own mutex, held only to
 * link or unlink a job, never while a handler runs or while the loop does I/O.
 */
#include "http_pool.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

struct pnk_http_pool {
    pthread_mutex_t mu; /* ring, count, paused, idle */
    pthread_cond_t cv;
    pnk_http_job_t **ring;
    size_t cap, head, count;
    int idle;
    bool paused;

    pthread_mutex_t done_mu; /* done_head/tail */
    pnk_http_job_t *done_head, *done_tail;
    struct event *done_ev;

    void (*run)(pnk_http_job_t *, void *);
    void (*done)(pnk_http_job_t *, void *);
    void *ud;
    pthread_t *threads;
    int nthreads;
};

static void
finish(pnk_http_pool_t *p, pnk_http_job_t *job)
{
    bool wake;

    job->next = NULL;
    pthread_mutex_lock(&p->done_mu);
    wake = p->done_head == NULL;
    if (p->done_tail)
        p->done_tail->next = job;
    else
        p->done_head = job;
    p->done_tail = job;
    pthread_mutex_unlock(&p->done_mu);
    /* One wake-up per batch: the loop takes the whole list when it runs. */
    if (wake)
        event_active(p->done_ev, EV_READ, 0);
}

static void *
worker(void *arg)
{
    pnk_http_pool_t *p = arg;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->paused && p->count == 0) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
        }
        if (p->paused)
            break;
        pnk_http_job_t *job = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        pthread_mutex_unlock(&p->mu);
        p->run(job, p->ud);
        finish(p, job);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
    pnk_http_pool_t *p = arg;
    pnk_http_job_t *list;

    (void)fd;
    (void)what;
    pthread_mutex_lock(&p->done_mu);
    list = p->done_head;
    p->done_head = p->done_tail = NULL;
    pthread_mutex_unlock(&p->done_mu);
    while (list) {
        pnk_http_job_t *next = list->next;
        p->done(list, p->ud);
        list = next;
    }
}

pnk_http_pool_t *
pnk_http_pool_new(struct event_base *base, int threads, size_t max_queue,
                  void (*run)(pnk_http_job_t *, void *), void (*done)(pnk_http_job_t *, void *),
                  void *ud)
{
    pnk_http_pool_t *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->cap = max_queue ? max_queue : 1;
    p->ring = calloc(
        p->cap, sizeof(p->ring[0])); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    p->threads = calloc((size_t)threads, sizeof(p->threads[0]));
    p->done_ev = event_new(base, -1, 0, on_done, p);
    p->run = run;
    p->done = done;
    p->ud = ud;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->done_mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (p->ring == NULL || p->threads == NULL || p->done_ev == NULL) {
        pnk_http_pool_free(p);
        return NULL;
    }
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            pnk_http_pool_free(p);
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

int
pnk_http_pool_submit(pnk_http_pool_t *p, pnk_http_job_t *job)
{
    pthread_mutex_lock(&p->mu);
    if (p->count == p->cap || p->paused) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    p->ring[(p->head + p->count) % p->cap] = job;
    p->count++;
    /* A busy pool re-checks the queue before sleeping, so only an idle thread needs a signal. */
    if (p->idle)
        pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

size_t
pnk_http_pool_queued(pnk_http_pool_t *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

bool
pnk_http_pool_cancel(pnk_http_pool_t *p, pnk_http_job_t *job)
{
    bool found = false;

    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->count; i++) {
        size_t k = (p->head + i) % p->cap;
        if (p->ring[k] != job)
            continue;
        for (size_t j = i; j + 1 < p->count; j++)
            p->ring[(p->head + j) % p->cap] = p->ring[(p->head + j + 1) % p->cap];
        p->count--;
        found = true;
        break;
    }
    pthread_mutex_unlock(&p->mu);
    return found;
}

void
pnk_http_pool_pause(pnk_http_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    p->paused = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

pnk_http_job_t *
pnk_http_pool_free(pnk_http_pool_t *p)
{
    pnk_http_job_t *left;

    if (p == NULL)
        return NULL;
    pnk_http_pool_pause(p);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    left = p->done_head;
    /* Jobs that never ran go back too, so the caller can free what they belong to. */
    for (size_t i = p->count; i > 0; i--) {
        pnk_http_job_t *j = p->ring[(p->head + i - 1) % p->cap];
        j->next = left;
        left = j;
    }
    if (p->done_ev)
        event_free(p->done_ev);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->done_mu);
    pthread_cond_destroy(&p->cv);
    free(p->ring);
    free(p->threads);
    free(p);
    return left;
}
