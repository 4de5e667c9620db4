/*
 * The worker's client for the server API: libcurl with one reused handle per thread (so
 * connections stay open), a service JWT refreshed before it expires, retries with backoff on
 * 408/429/500/502/503/504 and connection failures, the "backend" circuit breaker, and an
 * Idempotency-Key on every mutating call.
 */
#ifndef PNW_API_H
#define PNW_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "breaker.h"
#include "wconfig.h"

typedef struct pnw_api pnw_api_t;

pnw_api_t *pnw_api_new(const pnw_config_t *c, pnw_breakers_t *b);
void pnw_api_free(pnw_api_t *a);
/* Release the calling thread's curl handle (before the thread exits). */
void pnw_api_thread_done(void);

typedef struct pnw_api_req {
    const char *method;
    const char *path;
    const json_t *body;   /* NULL = no body */
    const char *idem_key; /* NULL: none (GET) */
    double deadline;      /* epoch s; 0 = none beyond the per-call timeout */
    volatile int *stop;   /* when set and nonzero, backoff ends early */
    /* Raw transfers. sink: a 2xx answer's body is written to sink_fd (rewound and truncated
     * per attempt), at most sink_max bytes (0 = no cap; over it the call fails, no retry).
     * source: the request body is source_len bytes of source_fd from offset 0, sent with
     * content_type. Other answers are read as JSON as usual. */
    bool sink, source;
    int sink_fd, source_fd;
    uint64_t sink_max, source_len;
    /* With sink: nonzero asks for the first range_len bytes only (Range: bytes=0-N); a 206
     * answer, or the first range_len bytes of a 200 answer (then the transfer is cut short on
     * purpose and still succeeds), is what reaches sink_fd. */
    uint64_t range_len;
    const char *content_type;
} pnw_api_req_t;

/* 0 with *status and *reply (JSON or NULL), or -1 when no usable answer came after the
 * retries (or the breaker is open); why says which. */
int pnw_api_call(pnw_api_t *a, const pnw_api_req_t *rq, long *status, json_t **reply, char *why,
                 size_t whylen);
/* The current service token (refreshed when less than a fifth of its life is left). */
char *pnw_api_token(pnw_api_t *a);

#endif
