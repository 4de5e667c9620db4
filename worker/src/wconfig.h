/*
 * The worker's configuration: a YAML file (config/worker.yaml documents every key) with
 * environment overrides. Secrets come only from the environment (WORKER_SERVICE_TOKEN).
 */
#ifndef PNW_CONFIG_H
#define PNW_CONFIG_H

#include <stddef.h>

typedef struct pnw_queue {
    char *name;
    int weight;
} pnw_queue_t;

typedef struct pnw_schedule {
    char *name; /* unique; part of the once-per-tick key */
    char *cron; /* five fields or @hourly, @daily, ... */
    char *job_class;
    char *queue;
    char *args_json; /* a JSON array */
    int retry;       /* -1 = Sidekiq default (true) */
} pnw_schedule_t;

typedef struct pnw_kv {
    char *section; /* job plugin name */
    char *key;
    char *value;
} pnw_kv_t;

typedef struct pnw_config {
    char *path; /* the file it came from, for isolated children */
    char *name;
    char *tag;
    int concurrency;
    int prefetch; /* jobs held beyond the busy threads, so none waits for a round trip */
    pnw_queue_t *queues;
    size_t nqueues;
    char **plugins;
    size_t nplugins;
    char *redis_url;
    char *redis_queue_url;
    double redis_timeout;
    char *server_url;
    double api_timeout;
    int api_retries;
    double api_backoff;
    int breaker_failures;
    double breaker_scale; /* multiplies breaker cooldowns; tests only */
    char *token_secret;
    char *token_issuer;
    char *token_audience;
    int token_ttl;
    double shutdown_timeout;
    double heartbeat_interval;
    double heartbeat_ttl;
    double poll_interval;
    int dead_max;
    int dead_days;
    double retry_scale;
    int max_payload;
    int max_depth;
    int runaway_max;
    int runaway_window;
    int runaway_disable;
    char *tmp_dir;
    char *log_level;
    pnw_schedule_t *schedules;
    size_t nschedules;
    pnw_kv_t *plugin_cfg;
    size_t nplugin_cfg;
} pnw_config_t;

/* Load path (NULL = defaults only), then apply the environment. NULL with the reason in err
 * ("worker.yaml:12: concurrency: 0 is below the minimum 1"). */
pnw_config_t *pnw_config_load(const char *path, char *err, size_t errlen);
void pnw_config_free(pnw_config_t *c);
/* Replace the job plugin list (powernode-worker --plugin). 0 or -1 (out of memory). */
int pnw_config_set_plugins(pnw_config_t *c, const char *const *paths, size_t n);
/* A job plugin's key, or NULL. */
const char *pnw_config_plugin_key(const pnw_config_t *c, const char *plugin, const char *key);

#endif
