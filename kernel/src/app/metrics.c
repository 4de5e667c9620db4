/* Request counters and latency histograms, rendered in Prometheus text format; see metrics.h. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../router/router.h"
#include "app.h"

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bounds[PNK_METRICS_BUCKETS - 1] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05,   0.1,   0.25,   0.5,   1.0};

void
pnk_metrics_init(pnk_metrics_t *m)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
}

void
pnk_metrics_observe(pnk_metrics_t *m, const char *route, int method, int status, double duration_ms)
{
    double s = duration_ms / 1000.0;
    pnk_metric_series_t *e = NULL;

    pthread_mutex_lock(&m->lock);
    /* Route strings are the router's own (stable addresses), so pointer equality suffices;
     * few series exist, so a linear scan from the most recent is cheap. */
    for (size_t i = m->nseries; i-- > 0;) {
        pnk_metric_series_t *x = &m->series[i];
        if (x->route == route && x->method == method && x->status == status) {
            e = x;
            break;
        }
    }
    if (e == NULL) {
        if (m->nseries == PNK_METRICS_SLOTS) {
            m->dropped++;
            pthread_mutex_unlock(&m->lock);
            return;
        }
        e = &m->series[m->nseries++];
        e->route = route;
        e->method = method;
        e->status = status;
    }
    e->count++;
    e->sum_ms += duration_ms;
    size_t b = 0;
    while (b < PNK_METRICS_BUCKETS - 1 && s > bounds[b])
        b++;
    e->buckets[b]++;
    pthread_mutex_unlock(&m->lock);
}

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(out_t *o, const char *fmt, ...)
{
    va_list ap;

    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->oom = true;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = (o->cap + (size_t)n) * 2;
        char *nb = realloc(o->buf, cap);
        if (nb == NULL) {
            o->oom = true;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
}

char *
pnk_metrics_render(pnk_metrics_t *m, size_t *len)
{
    out_t o = {malloc(8192), 0, 8192, false};
    pnk_http_stats_t hs = {0};
    pnk_db_stats_t ds = {0};

    if (o.buf == NULL)
        return NULL;
    put(&o, "# HELP powernode_http_requests_total Requests answered, by route pattern, method "
            "and status.\n# TYPE powernode_http_requests_total counter\n");
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nseries; i++) {
        pnk_metric_series_t *e = &m->series[i];
        put(&o, "powernode_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
            e->route, e->method ? pnk_method_name(e->method) : "OTHER", e->status,
            (unsigned long long)e->count);
    }
    put(&o, "# HELP powernode_http_request_duration_seconds Time from the first byte of the "
            "request to the reply being written.\n"
            "# TYPE powernode_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->nseries; i++) {
        pnk_metric_series_t *e = &m->series[i];
        const char *meth = e->method ? pnk_method_name(e->method) : "OTHER";
        uint64_t cum = 0;
        for (size_t b = 0; b < PNK_METRICS_BUCKETS; b++) {
            cum += e->buckets[b];
            if (b < PNK_METRICS_BUCKETS - 1)
                put(&o,
                    "powernode_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                    "status=\"%d\",le=\"%g\"} %llu\n",
                    e->route, meth, e->status, bounds[b], (unsigned long long)cum);
            else
                put(&o,
                    "powernode_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                    "status=\"%d\",le=\"+Inf\"} %llu\n",
                    e->route, meth, e->status, (unsigned long long)cum);
        }
        put(&o,
            "powernode_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\",status=\"%d\"}"
            " %.6f\n"
            "powernode_http_request_duration_seconds_count{route=\"%s\",method=\"%s\","
            "status=\"%d\"} %llu\n",
            e->route, meth, e->status, e->sum_ms / 1000.0, e->route, meth, e->status,
            (unsigned long long)e->count);
    }
    uint64_t dropped = m->dropped;
    pthread_mutex_unlock(&m->lock);

    if (pnk_app.http)
        pnk_http_server_stats(pnk_app.http, &hs);
    if (pnk_app.db)
        pnk_db_stats(pnk_app.db, &ds);
    size_t active = 0;
    for (size_t i = 0; pnk_app.loader && i < pnk_loader_count(pnk_app.loader); i++)
        active += pnk_loader_at(pnk_app.loader, i)->state == PNK_PLUGIN_ACTIVE;
    put(&o,
        "# TYPE powernode_http_connections_open gauge\npowernode_http_connections_open %llu\n"
        "# TYPE powernode_http_connections_total counter\npowernode_http_connections_total %llu\n"
        "# TYPE powernode_http_connections_refused_total counter\n"
        "powernode_http_connections_refused_total %llu\n"
        "# TYPE powernode_http_requests_in_flight gauge\npowernode_http_requests_in_flight %llu\n"
        "# TYPE powernode_http_requests_queued gauge\npowernode_http_requests_queued %llu\n"
        "# TYPE powernode_http_protocol_errors_total counter\n"
        "powernode_http_protocol_errors_total %llu\n"
        "# TYPE powernode_metrics_series_dropped_total counter\n"
        "powernode_metrics_series_dropped_total %llu\n",
        (unsigned long long)hs.connections_open, (unsigned long long)hs.connections_total,
        (unsigned long long)hs.connections_refused, (unsigned long long)hs.requests_in_flight,
        (unsigned long long)hs.requests_queued, (unsigned long long)hs.protocol_errors,
        (unsigned long long)dropped);
    put(&o,
        "# HELP powernode_db_pool_connections PostgreSQL pool connections by state.\n"
        "# TYPE powernode_db_pool_connections gauge\n"
        "powernode_db_pool_connections{state=\"size\"} %d\n"
        "powernode_db_pool_connections{state=\"open\"} %d\n"
        "powernode_db_pool_connections{state=\"in_use\"} %d\n"
        "powernode_db_pool_waiting %d\n"
        "# TYPE powernode_db_pool_timeouts_total counter\npowernode_db_pool_timeouts_total %lu\n"
        "# TYPE powernode_db_errors_total counter\npowernode_db_errors_total %lu\n"
        "# TYPE powernode_plugins_loaded gauge\npowernode_plugins_loaded %zu\n",
        ds.size, ds.open, ds.in_use, ds.waiting, ds.timeouts_total, ds.errors_total, active);
    if (o.oom) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}
