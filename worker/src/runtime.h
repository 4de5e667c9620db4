/*
 * The worker process's shared state: configuration, loaded job classes, services, identity,
 * and the in-memory job pipeline between the dispatcher (the only thread that fetches and
 * acknowledges) and the job threads. One per process (pnw_rt).
 */
#ifndef PNW_RUNTIME_H
#define PNW_RUNTIME_H

#include <pthread.h>
#include <stdbool.h>

#include "api.h"
#include "breaker.h"
#include "plugins.h"
#include "retry.h"
#include "track.h"
#include "wconfig.h"
#include "wredis.h"

/* One fetched job on its way through the process. */
typedef struct pnw_item {
    struct pnw_item *next;
    char *queue;
    char *payload; /* the exact bytes in Redis (needed to remove it from the working list) */
    size_t len;
    /* Outcome, set by the job thread: a acknowledge, r retry, d dead, x discarded,
     * s scheduled (runaway), p pushed back (shutdown). */
    char kind;
    double score;
    char *newp;
    double run_at;
    bool marked;     /* in pn:running:<identity>: handed to a job thread */
    bool alone;      /* a suspect running alone */
    int share;       /* runs to add to the fleet-wide runaway count (track.h) */
    uint64_t digest; /* of its class and arguments */
    char label[96];  /* "<class> <args>", for the disabled list */
    char hex[17];    /* digest in hex, while the acknowledgement is being sent */
} pnw_item_t;

typedef struct pnw_slot {
    pnw_item_t *item; /* running now, or NULL */
    char tid[16];
} pnw_slot_t;

typedef struct pnw_rt {
    pnw_config_t *cfg;
    pnw_registry_t reg;
    pnw_redis_addr_t addr;
    pnw_breakers_t *breakers;
    pnw_api_t *api;
    pnw_track_t *track;
    const pnw_clock_t *clock;
    char identity[160];
    char hostname[64];
    double started_at;
    char self_exe[4096];
    bool child;        /* an isolated child running one job */
    bool local;        /* --run (or its isolated child): API calls go to local.c, no Redis */
    char **child_argv; /* extra arguments for isolated children (NULL-terminated) or NULL */

    volatile int stopping; /* SIGTERM: no more fetching; jobs may look at it */
    volatile int quiet;    /* TSTP: no more fetching, keep running */
    volatile int resync;   /* Redis restarted: the dispatcher re-syncs our keys (scripts.h) */

    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* job threads wait for items */
    pthread_cond_t disp_cv; /* the dispatcher waits for finished items or free slots */
    pthread_cond_t idle_cv; /* shutdown waits for running == 0 */
    pnw_item_t *runq, *runq_tail;
    pnw_item_t *done, *done_tail;
    int nrunq, ndone; /* lengths of runq and done */
    int inflight;     /* fetched and not yet acknowledged */
    int running;
    int sleeping;       /* job threads waiting on work_cv */
    bool wake_pending;  /* one of them was signalled and has not taken the lock yet */
    double job_us;      /* moving average of how long a job runs, in microseconds */
    bool alone_running; /* a suspect (see pool.c) was handed out and has not finished */
    bool threads_exit;
    pnw_slot_t *slots;
} pnw_rt_t;

extern pnw_rt_t pnw_rt;

double pnw_now(void);
void pnw_item_free(pnw_item_t *it);

/* Run one item on a job thread: decode, check, execute (in process or isolated), and set
 * its outcome. Never fails: every problem becomes an outcome with a reason. */
void pnw_run_item(pnw_item_t *it);

/* Execute one decoded job of class c in this process; fills msg and *api_failed. */
struct pnw_payload;
int pnw_job_execute(const pnw_class_t *c, struct pnw_payload *p, int attempt, char *msg,
                    size_t msglen, bool *api_failed);
/* The host table handed to job plugins. */
extern const pn_job_host_t pnw_host;
/* Close the calling thread's Redis connection used by job helpers. */
void pnw_context_thread_done(void);

/* Run one attempt in a child process with the class's limits. */
int pnw_isolate_run(const pnw_class_t *c, const char *payload, size_t len, int attempt, char *msg,
                    size_t msglen, bool *api_failed);
/* The child side: read the payload on stdin, run it, print the result. Returns exit code. */
int pnw_isolate_child(const char *job_class, int attempt);

#endif
