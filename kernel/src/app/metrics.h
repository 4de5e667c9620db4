/*
 * Request metrics in Prometheus text format: counts and a latency histogram by route pattern,
 * method and status. Updated on the event-loop thread after each reply; read by /metrics on a
 * handler thread, so a mutex guards the table.
 */
#ifndef PNK_METRICS_H
#define PNK_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define PNK_METRICS_BUCKETS 12
#define PNK_METRICS_SLOTS 1024

typedef struct pnk_metric_series {
    const char *route; /* the route pattern, or "(unmatched)"/"(static)"; static storage */
    int method;        /* pn_method_t bit or 0 */
    int status;
    uint64_t count;
    double sum_ms;
    uint64_t buckets[PNK_METRICS_BUCKETS];
} pnk_metric_series_t;

typedef struct pnk_metrics {
    pthread_mutex_t lock;
    pnk_metric_series_t series[PNK_METRICS_SLOTS];
    size_t nseries;
    uint64_t dropped; /* observations with no free slot */
} pnk_metrics_t;

void pnk_metrics_init(pnk_metrics_t *m);
void pnk_metrics_observe(pnk_metrics_t *m, const char *route, int method, int status,
                         double duration_ms);
/* The exposition text (malloc'd, caller frees), with the HTTP, pool and plugin gauges. */
char *pnk_metrics_render(pnk_metrics_t *m, size_t *len);

#endif
