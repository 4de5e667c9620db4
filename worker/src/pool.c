/* Job threads and the dispatcher: the hot path. One script call per round trip carries the
 * acknowledgements of every job finished since the last call and fetches new ones. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "scripts.h"
#include "wlog.h"

static pthread_t disp_thread;
static pthread_t *job_threads;
static int njob_threads;
static bool disp_exit;
static bool disp_started;

static void
timed_wait(pthread_cond_t *cv, double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double t = (double)ts.tv_nsec / 1e9 + s;
    ts.tv_sec += (time_t)t;
    ts.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
    pthread_cond_timedwait(cv, &pnw_rt.mu, &ts);
}

static void
append(pnw_item_t **head, pnw_item_t **tail, pnw_item_t *it)
{
    it->next = NULL;
    if (*tail)
        (*tail)->next = it;
    else
        *head = it;
    *tail = it;
}

/* A job whose process died while it ran (pn_orphaned > 0, see house.c) is a suspect: it is
 * handed out only to an otherwise idle process and nothing else starts until it ends, so if
 * it kills the process again it is the only one charged. The field is written by us in
 * compact JSON; inside a string argument its quotes would be escaped. */
static bool
suspect(const pnw_item_t *it)
{
    static const char tag[] = "\"pn_orphaned\":";
    const char *at = memmem(it->payload, it->len, tag, sizeof tag - 1);
    if (!at)
        return false;
    at += sizeof tag - 1;
    return at < it->payload + it->len && *at >= '1' && *at <= '9';
}

/* Marked jobs kept waiting in the run queue beyond the idle threads, so a thread that
 * finishes starts its next job at once instead of after the dispatcher's round trip (a no-op
 * job takes microseconds, a round trip hundreds). Marking them early is safe: if the process
 * dies they are charged like the running ones, and charged jobs are then run alone, so only
 * the job that kills the process is charged again. */
static int
ready_reserve(void)
{
    int r = pnw_rt.cfg->prefetch;
    return r < pnw_rt.cfg->concurrency ? r : pnw_rt.cfg->concurrency;
}

/* Waking a sleeping thread costs two futex calls and tens of microseconds here. Jobs that
 * run for less than that (FAST_JOB_US, by the moving average) are better run by the threads
 * already awake: then one wake-up is kept in flight and each woken thread wakes the next if
 * jobs are still waiting. Longer jobs get a thread each at once, as before. Caller holds the
 * lock; n is how many jobs were just queued (0 from a job thread that took one). */
#define FAST_JOB_US 100.0

static void
wake_for(int n)
{
    if (pnw_rt.job_us >= FAST_JOB_US) {
        for (int i = 0; i < n && i < pnw_rt.sleeping; i++)
            pthread_cond_signal(&pnw_rt.work_cv);
        return;
    }
    if (pnw_rt.runq && pnw_rt.sleeping > 0 && !pnw_rt.wake_pending) {
        pnw_rt.wake_pending = true;
        pthread_cond_signal(&pnw_rt.work_cv);
    }
}

static void *
job_thread(void *arg)
{
    pnw_slot_t *slot = arg;
    pthread_mutex_lock(&pnw_rt.mu);
    for (;;) {
        while (!pnw_rt.runq && !pnw_rt.threads_exit) {
            pnw_rt.sleeping++;
            pthread_cond_wait(&pnw_rt.work_cv, &pnw_rt.mu);
            pnw_rt.sleeping--;
            pnw_rt.wake_pending = false;
        }
        if (!pnw_rt.runq)
            break;
        pnw_item_t *it = pnw_rt.runq;
        pnw_rt.runq = it->next;
        if (!pnw_rt.runq)
            pnw_rt.runq_tail = NULL;
        pnw_rt.nrunq--;
        wake_for(0);
        pnw_rt.running++;
        it->run_at = pnw_now();
        slot->item = it;
        pthread_mutex_unlock(&pnw_rt.mu);

        pnw_run_item(it);

        pthread_mutex_lock(&pnw_rt.mu);
        pnw_rt.job_us = 0.9 * pnw_rt.job_us + 0.1 * (pnw_now() - it->run_at) * 1e6;
        slot->item = NULL;
        pnw_rt.running--;
        if (it->alone)
            pnw_rt.alone_running = false;
        append(&pnw_rt.done, &pnw_rt.done_tail, it);
        /* Wake the dispatcher only when it has something worth a round trip: a batch of
         * acknowledgements, or threads about to run dry. Fewer wake-ups, bigger batches. */
        if (++pnw_rt.ndone >= 16 || pnw_rt.nrunq * 2 < ready_reserve() + 1 || pnw_rt.stopping ||
            it->alone)
            pthread_cond_signal(&pnw_rt.disp_cv);
        if (pnw_rt.running == 0)
            pthread_cond_broadcast(&pnw_rt.idle_cv);
    }
    pthread_mutex_unlock(&pnw_rt.mu);
    pnw_context_thread_done();
    return NULL;
}

/* xorshift64*: queue order needs speed, not secrecy. */
static uint64_t rng_state = 88172645463325252ull;
static unsigned
rnd(unsigned n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (unsigned)((rng_state * 2685821657736338717ull) >> 33) % n;
}

/* A weighted random order of the queues (Sidekiq's weighted fetch, without repeats). */
static size_t
weighted_order(const char **out)
{
    const pnw_config_t *c = pnw_rt.cfg;
    int idx[64], n = (int)c->nqueues, total = 0;
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        total += c->queues[i].weight;
    }
    for (int k = 0; k < n; k++) {
        int r = (int)rnd((unsigned)total), j = k;
        for (; j < n - 1; j++) {
            r -= c->queues[idx[j]].weight;
            if (r < 0)
                break;
        }
        int t = idx[k];
        idx[k] = idx[j];
        idx[j] = t;
        total -= c->queues[idx[k]].weight;
        out[k] = c->queues[idx[k]].name;
    }
    return n > 0 ? (size_t)n : 0;
}

static pnw_item_t *
new_item(const char *q, size_t ql, const char *p, size_t pl)
{
    pnw_item_t *it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->queue = strndup(q, ql);
    it->payload = malloc(pl + 1);
    if (!it->queue || !it->payload) {
        pnw_item_free(it);
        return NULL;
    }
    memcpy(it->payload, p, pl);
    it->payload[pl] = '\0';
    it->len = pl;
    return it;
}

typedef struct {
    const char **v;
    size_t *l;
    int n, cap;
} args_t;

static int
push_arg(args_t *a, const char *s, size_t len)
{
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 64;
        const char **nv = realloc(a->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return -1;
        a->v = nv;
        size_t *nl = realloc(a->l, (size_t)cap * sizeof *nl);
        if (!nl)
            return -1;
        a->l = nl;
        a->cap = cap;
    }
    a->v[a->n] = s;
    a->l[a->n++] = len;
    return 0;
}

/* Count fetched jobs in flight; they wait in the dispatcher's buffer until handed out. */
static void
buffer_add(pnw_item_t *list, int n, pnw_item_t **buf, pnw_item_t **btail, int *nbuf)
{
    pthread_mutex_lock(&pnw_rt.mu);
    pnw_rt.inflight += n;
    pthread_mutex_unlock(&pnw_rt.mu);
    while (list) {
        pnw_item_t *it = list;
        list = it->next;
        append(buf, btail, it);
        (*nbuf)++;
    }
}

/* How many buffered jobs to hand out now (caller holds the lock): one per idle thread, in
 * order; a suspect only to a process with nothing else running or handed out, and then
 * alone. *alone is set when the one handed out is a suspect. */
static int
to_start(const pnw_item_t *buf, bool *alone)
{
    *alone = false;
    if (pnw_rt.stopping || pnw_rt.alone_running)
        return 0;
    int idle = pnw_rt.cfg->concurrency + ready_reserve() - pnw_rt.running - pnw_rt.nrunq, n = 0;
    for (const pnw_item_t *it = buf; it && n < idle; it = it->next) {
        if (suspect(it)) {
            if (n == 0 && pnw_rt.running == 0 && pnw_rt.nrunq == 0) {
                *alone = true;
                n = 1;
            }
            break;
        }
        n++;
    }
    return n;
}

static void
log_redis_error(pnw_redis_t *r, double *last)
{
    double now = pnw_now();
    if (now - *last >= 5) {
        pnw_log(PNW_ERROR, "fetch", "redis: %s; retrying (acknowledgements are kept)",
                pnw_redis_error(r));
        *last = now;
    }
}

static void
nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* One blocking wait for a job on one queue when the queues were empty. */
static int
block_fetch(pnw_redis_t *r, const char *q, double secs, pnw_item_t **out)
{
    char src[128], dst[300], t[32];
    (void)snprintf(src, sizeof src, "queue:%s", q);
    (void)snprintf(dst, sizeof dst, "pn:working:%s:%s", pnw_rt.identity, q);
    (void)snprintf(t, sizeof t, "%.3f", secs);
    const char *argv[] = {"BLMOVE", src, dst, "RIGHT", "LEFT", t};
    redisReply *rep = pnw_redis_cmd_block(r, secs, 6, argv, NULL);
    int n = 0;
    if (!rep)
        return -1;
    if (rep->type == REDIS_REPLY_STRING) {
        *out = new_item(q, strlen(q), rep->str, rep->len);
        n = *out ? 1 : 0;
    }
    freeReplyObject(rep);
    return n;
}

/* Redis restarted (house.c): tell it exactly what we hold, i.e. every fetched job not yet
 * acknowledged: the dispatcher's buffer and pending list, the run queue, the running slots
 * and the finished list. Only the dispatcher fetches, so nothing moves under us. */
static int
resync(pnw_redis_t *r, pnw_item_t *pending, pnw_item_t *buf)
{
    args_t a = {0};
    char nh[16];
    int n = 0;
    push_arg(&a, pnw_rt.identity, strlen(pnw_rt.identity));
    push_arg(&a, nh, 0);
    pthread_mutex_lock(&pnw_rt.mu);
    pnw_item_t *lists[] = {pending, buf, pnw_rt.runq, pnw_rt.done};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (pnw_item_t *it = lists[l]; it; it = it->next, n++) {
            push_arg(&a, it->queue, strlen(it->queue));
            push_arg(&a, it->payload, it->len);
            push_arg(&a, it->marked ? "1" : "0", 1);
        }
    for (int i = 0; pnw_rt.slots && i < pnw_rt.cfg->concurrency; i++) {
        pnw_item_t *it = pnw_rt.slots[i].item;
        if (!it)
            continue;
        push_arg(&a, it->queue, strlen(it->queue));
        push_arg(&a, it->payload, it->len);
        push_arg(&a, "1", 1);
        n++;
    }
    pthread_mutex_unlock(&pnw_rt.mu);
    for (size_t i = 0; i < pnw_rt.cfg->nqueues; i++)
        push_arg(&a, pnw_rt.cfg->queues[i].name, strlen(pnw_rt.cfg->queues[i].name));
    (void)snprintf(nh, sizeof nh, "%d", n);
    if (a.n == 2 + 3 * n + (int)pnw_rt.cfg->nqueues) {
        a.l[1] = strlen(nh);
        redisReply *rep = pnw_redis_eval(r, &pnw_script_resync, 0, a.n, a.v, a.l);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
            pnw_log(PNW_WARN, "fetch",
                    "re-synced with the restarted redis: %lld jobs we no longer held returned "
                    "to their queues, %lld jobs we hold put back in our working lists",
                    rep->element[0]->integer, rep->element[1]->integer);
            pnw_rt.resync = 0;
        }
        if (rep)
            freeReplyObject(rep);
    }
    free(a.v);
    free(a.l);
    return pnw_rt.resync ? -1 : 0;
}

/* Jobs this process holds that have not finished: what the fetch budget (concurrency +
 * prefetch) limits. Finished ones waiting for their acknowledgement keep nobody waiting, and
 * counting them made every job cost three round trips of budget instead of two. Caller holds
 * the lock. */
static int
held(int npend)
{
    return pnw_rt.inflight - pnw_rt.ndone - npend;
}

static void *
dispatcher(void *ud)
{
    (void)ud;
    const pnw_config_t *cfg = pnw_rt.cfg;
    pnw_redis_t *r = pnw_redis_new(&pnw_rt.addr, cfg->redis_timeout);
    pnw_item_t *pending = NULL, *ptail = NULL;
    pnw_item_t *buf = NULL, *btail = NULL; /* fetched, not handed out yet */
    int nbuf = 0;
    int npend = 0;    /* items in pending: finished (or returned), their acknowledgement not sent */
    bool dry = false; /* the last fetch found the queues empty while jobs were buffered */
    args_t a = {0};
    double last_err = 0, backoff = 0.05;
    const char *order[64];
    for (;;) {
        pthread_mutex_lock(&pnw_rt.mu);
        int nfetch = 0, nstart = 0;
        bool alone = false;
        for (int waits = 0;; waits++) {
            /* Queues empty and threads busy with what we hold: wait for a thread rather
             * than spin on empty fetches; look again after a while. */
            bool can = !pnw_rt.stopping && !pnw_rt.quiet &&
                       held(npend) < cfg->concurrency + cfg->prefetch &&
                       !(dry && (buf || pnw_rt.inflight > 0) && waits == 0);
            nstart = to_start(buf, &alone);
            if (pnw_rt.done || can || pending || nstart || (pnw_rt.stopping && buf) ||
                pnw_rt.resync || (disp_exit && pnw_rt.inflight == 0))
                break;
            timed_wait(&pnw_rt.disp_cv, dry ? 0.2 : 0.5);
        }
        while (pnw_rt.done) {
            pnw_item_t *it = pnw_rt.done;
            pnw_rt.done = it->next;
            append(&pending, &ptail, it);
            npend++;
        }
        pnw_rt.done_tail = NULL;
        pnw_rt.ndone = 0;
        if (!pnw_rt.stopping && !pnw_rt.quiet)
            nfetch = cfg->concurrency + cfg->prefetch - held(npend);
        bool leave = disp_exit && pnw_rt.inflight == 0 && !pending;
        bool stopping = pnw_rt.stopping;
        pthread_mutex_unlock(&pnw_rt.mu);
        if (stopping) {
            /* Never handed out: straight back to the queue with the next round trip. */
            while (buf) {
                pnw_item_t *it = buf;
                buf = it->next;
                it->kind = 'p';
                append(&pending, &ptail, it);
            }
            btail = NULL;
            nbuf = nstart = 0;
        }
        if (leave)
            break;
        if (pnw_rt.resync && resync(r, pending, buf) != 0) {
            log_redis_error(r, &last_err);
            nap(0.2);
            continue;
        }
        if (!pending && nfetch <= 0 && nstart == 0)
            continue;

        /* Build the script call. */
        char date[16], ndone[16], nf[16], dmax[16], dcut[32], nq[16], nst[16];
        double now = pnw_now();
        time_t secs = (time_t)now;
        struct tm tm;
        gmtime_r(&secs, &tm);
        (void)strftime(date, sizeof date, "%Y-%m-%d", &tm);
        a.n = 0;
        push_arg(&a, pnw_rt.identity, strlen(pnw_rt.identity));
        push_arg(&a, date, strlen(date));
        char rwin[16], rmax[16], rdis[16], nows[32];
        (void)snprintf(rwin, sizeof rwin, "%d", cfg->runaway_window);
        (void)snprintf(rmax, sizeof rmax, "%d", cfg->runaway_max);
        (void)snprintf(rdis, sizeof rdis, "%d", cfg->runaway_disable);
        (void)snprintf(nows, sizeof nows, "%.3f", now);
        push_arg(&a, rwin, strlen(rwin));
        push_arg(&a, rmax, strlen(rmax));
        push_arg(&a, rdis, strlen(rdis));
        push_arg(&a, nows, strlen(nows));
        int nd = 0;
        char scores[256][32];
        int ns = 0;
        push_arg(&a, ndone, 0); /* placeholder, fixed below */
        for (pnw_item_t *it = pending; it; it = it->next) {
            if (it->kind == 'k')
                continue;
            const char *sc = "0";
            if (ns < 256 && (it->kind == 'r' || it->kind == 'd' || it->kind == 's')) {
                (void)snprintf(scores[ns], sizeof scores[ns], "%.6f", it->score);
                sc = scores[ns++];
            } else if (it->kind == 'r' || it->kind == 'd' || it->kind == 's') {
                break; /* more failures than score buffers: the rest go next round */
            }
            push_arg(&a,
                     it->kind == 'a'   ? "a"
                     : it->kind == 'r' ? "r"
                     : it->kind == 'd' ? "d"
                     : it->kind == 'x' ? "x"
                     : it->kind == 's' ? "s"
                                       : "p",
                     1);
            push_arg(&a, it->queue, strlen(it->queue));
            push_arg(&a, it->payload, it->len);
            push_arg(&a, sc, strlen(sc));
            push_arg(&a, it->newp ? it->newp : "", it->newp ? strlen(it->newp) : 0);
            push_arg(&a, it->marked ? "1" : "0", 1);
            if (it->share > 0) {
                (void)snprintf(it->hex, sizeof it->hex, "%016llx", (unsigned long long)it->digest);
                push_arg(&a, it->hex, 16);
                push_arg(&a, it->label, strlen(it->label));
                push_arg(&a, it->share == 2 ? "2" : "1", 1);
            } else {
                push_arg(&a, "", 0);
                push_arg(&a, "", 0);
                push_arg(&a, "", 0);
            }
            nd++;
        }
        (void)snprintf(ndone, sizeof ndone, "%d", nd);
        if (a.n > 6) /* else a push failed: the count check below gives up on this round */
            a.l[6] = strlen(ndone);
        (void)snprintf(nst, sizeof nst, "%d", nstart);
        push_arg(&a, nst, strlen(nst));
        int k = 0;
        for (pnw_item_t *it = buf; it && k < nstart; it = it->next, k++)
            push_arg(&a, it->payload, it->len);
        (void)snprintf(nf, sizeof nf, "%d", nfetch > 0 ? nfetch : 0);
        (void)snprintf(dmax, sizeof dmax, "%d", cfg->dead_max);
        (void)snprintf(dcut, sizeof dcut, "%.6f", now - cfg->dead_days * 86400.0);
        (void)snprintf(nq, sizeof nq, "%zu", cfg->nqueues);
        push_arg(&a, nf, strlen(nf));
        push_arg(&a, dmax, strlen(dmax));
        push_arg(&a, dcut, strlen(dcut));
        push_arg(&a, nq, strlen(nq));
        size_t norder = weighted_order(order);
        for (size_t i = 0; i < norder; i++)
            push_arg(&a, order[i], strlen(order[i]));
        if (a.n != 6 + 1 + 9 * nd + 1 + nstart + 4 + (int)cfg->nqueues) {
            pnw_log(PNW_ERROR, "fetch", "out of memory building a fetch");
            nap(0.1);
            continue;
        }

        redisReply *rep = pnw_redis_eval(r, &pnw_script_cycle, 0, a.n, a.v, a.l);
        if (!rep || rep->type != REDIS_REPLY_ARRAY) {
            log_redis_error(r, &last_err);
            if (rep)
                freeReplyObject(rep);
            nap(backoff);
            backoff = backoff * 2 > 1 ? 1 : backoff * 2;
            continue;
        }
        backoff = 0.05;
        /* The sent items are settled; those skipped ('k', or over the score buffer) stay. */
        int settled = 0;
        pnw_item_t *keep = NULL, *ktail = NULL;
        npend = 0;
        int sent = 0;
        while (pending) {
            pnw_item_t *it = pending;
            pending = it->next;
            if (it->kind == 'k' || sent >= nd) {
                if (it->kind == 'k') {
                    settled++;
                    pnw_item_free(it);
                } else {
                    append(&keep, &ktail, it);
                    npend++;
                }
                continue;
            }
            sent++;
            settled++;
            pnw_item_free(it);
        }
        pending = keep;
        ptail = ktail;
        pnw_item_t *fetched = NULL, *ftail = NULL;
        int nfetched = 0;
        for (size_t i = 0; i + 1 < rep->elements; i += 2) {
            pnw_item_t *it = new_item(rep->element[i]->str, rep->element[i]->len,
                                      rep->element[i + 1]->str, rep->element[i + 1]->len);
            if (!it)
                continue; /* stays in the working list; returned on exit */
            append(&fetched, &ftail, it);
            nfetched++;
        }
        freeReplyObject(rep);
        pthread_mutex_lock(&pnw_rt.mu);
        pnw_rt.inflight -= settled;
        /* The marked ones go to the job threads. */
        for (k = 0; k < nstart && buf; k++) {
            pnw_item_t *it = buf;
            buf = it->next;
            it->marked = true;
            it->alone = alone;
            append(&pnw_rt.runq, &pnw_rt.runq_tail, it);
            pnw_rt.nrunq++;
        }
        wake_for(k);
        if (alone)
            pnw_rt.alone_running = true;
        if (!buf)
            btail = NULL;
        nbuf -= k;
        /* Nothing held means nothing running and nothing finished: only a fetch adds to it. */
        bool idle = pnw_rt.inflight == 0;
        if (idle)
            pthread_cond_broadcast(&pnw_rt.idle_cv);
        pthread_mutex_unlock(&pnw_rt.mu);
        if (nfetched)
            buffer_add(fetched, nfetched, &buf, &btail, &nbuf);
        dry = nfetch > 0 && nfetched < nfetch;

        /* Nothing was waiting and nothing is running: block on one queue for a while instead
         * of spinning. With jobs still running the dispatcher must stay free to acknowledge
         * them as they finish (a blocked fetch held the last acknowledgements of a burst for
         * its whole timeout); it waits for them above instead. */
        if (idle && nfetch > 0 && nfetched == 0 && nd == 0 && nstart == 0 && !pending && !buf) {
            weighted_order(order);
            pnw_item_t *it = NULL;
            double wait = cfg->nqueues == 1 ? 1.0 : 0.2;
            int got = block_fetch(r, order[0], wait, &it);
            if (got < 0) {
                log_redis_error(r, &last_err);
                nap(0.2);
            } else if (got > 0) {
                buffer_add(it, 1, &buf, &btail, &nbuf);
            }
        }
    }
    free(a.v);
    free(a.l);
    pnw_redis_free(r);
    return NULL;
}

int
pnw_pool_start(void)
{
    int n = pnw_rt.cfg->concurrency;
    job_threads = calloc((size_t)n, sizeof *job_threads);
    pnw_rt.slots = calloc((size_t)n, sizeof *pnw_rt.slots);
    if (!job_threads || !pnw_rt.slots)
        return -1;
    for (int i = 0; i < n; i++) {
        /* Sidekiq names its threads with short base-36 ids; any unique string works. */
        (void)snprintf(pnw_rt.slots[i].tid, sizeof pnw_rt.slots[i].tid, "t%d", i);
        if (pthread_create(&job_threads[i], NULL, job_thread, &pnw_rt.slots[i]) != 0)
            return -1;
        njob_threads++;
    }
    if (pthread_create(&disp_thread, NULL, dispatcher, NULL) != 0)
        return -1;
    disp_started = true;
    return 0;
}

void
pnw_pool_wake(void)
{
    pthread_mutex_lock(&pnw_rt.mu);
    pthread_cond_broadcast(&pnw_rt.disp_cv);
    pthread_mutex_unlock(&pnw_rt.mu);
}

bool
pnw_pool_drain(double timeout)
{
    double deadline = pnw_now() + timeout;
    pthread_mutex_lock(&pnw_rt.mu);
    /* Jobs not started yet go straight back to their queues. */
    int back = 0;
    while (pnw_rt.runq) {
        pnw_item_t *it = pnw_rt.runq;
        pnw_rt.runq = it->next;
        it->kind = 'p';
        append(&pnw_rt.done, &pnw_rt.done_tail, it);
        back++;
    }
    pnw_rt.runq_tail = NULL;
    pnw_rt.nrunq = 0;
    pthread_cond_broadcast(&pnw_rt.disp_cv);
    if (back)
        pnw_log(PNW_INFO, "shutdown", "returning %d jobs that had not started", back);
    if (pnw_rt.running)
        pnw_log(PNW_INFO, "shutdown", "waiting up to %.0f s for %d running jobs", timeout,
                pnw_rt.running);
    while ((pnw_rt.running > 0 || pnw_rt.inflight > 0) && pnw_now() < deadline)
        timed_wait(&pnw_rt.idle_cv, 0.1);
    bool ok = pnw_rt.running == 0 && pnw_rt.inflight == 0;
    if (ok) {
        pnw_rt.threads_exit = true;
        disp_exit = true;
        pthread_cond_broadcast(&pnw_rt.work_cv);
        pthread_cond_broadcast(&pnw_rt.disp_cv);
    }
    pthread_mutex_unlock(&pnw_rt.mu);
    return ok;
}

void
pnw_pool_join(void)
{
    for (int i = 0; i < njob_threads; i++)
        pthread_join(job_threads[i], NULL);
    if (disp_started)
        pthread_join(disp_thread, NULL);
    free(job_threads);
    free(pnw_rt.slots);
    job_threads = NULL;
    pnw_rt.slots = NULL;
}

int
pnw_pool_running(char ***tids, char ***values)
{
    int n = 0, cap = pnw_rt.cfg->concurrency;
    *tids = calloc((size_t)cap, sizeof **tids);
    *values = calloc((size_t)cap, sizeof **values);
    if (!*tids || !*values)
        return 0;
    pthread_mutex_lock(&pnw_rt.mu);
    for (int i = 0; i < cap && pnw_rt.slots; i++) {
        pnw_item_t *it = pnw_rt.slots[i].item;
        if (!it)
            continue;
        json_t *v = json_object();
        json_object_set_new(v, "queue", json_string(it->queue));
        /* Sidekiq stores the payload as a string inside this JSON. */
        json_object_set_new(v, "payload", json_stringn(it->payload, it->len));
        json_object_set_new(v, "run_at", json_integer((json_int_t)it->run_at));
        (*values)[n] = json_dumps(v, JSON_COMPACT);
        json_decref(v);
        if (!(*values)[n])
            continue;
        (*tids)[n] = strdup(pnw_rt.slots[i].tid);
        n++;
    }
    pthread_mutex_unlock(&pnw_rt.mu);
    return n;
}
