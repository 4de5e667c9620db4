/* Loads worker.yaml into pnw_config_t: a table of scalar keys, then queues, plugins,
 * schedules and job plugin sections; environment variables override the file. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wconfig.h"
#include "wlog.h"
#include "yamltree.h"

typedef enum { K_STR, K_INT, K_DBL } ktype_t;

typedef struct {
    const char *path; /* dotted path in the file */
    const char *env;  /* extra environment name (besides PN_WORKER_<PATH>), or NULL */
    ktype_t type;
    size_t off;
    double min, max;
    const char *def; /* default as text */
} key_t_;

#define OFF(f) offsetof(pnw_config_t, f)
static const key_t_ keys[] = {
    {"name", NULL, K_STR, OFF(name), 0, 0, "powernode-worker"},
    {"tag", NULL, K_STR, OFF(tag), 0, 0, ""},
    {"concurrency", NULL, K_INT, OFF(concurrency), 1, 256, "10"},
    {"prefetch", NULL, K_INT, OFF(prefetch), 0, 256, "10"},
    {"redis.url", "REDIS_URL", K_STR, OFF(redis_url), 0, 0, "redis://127.0.0.1:6379/0"},
    {"redis.queue_url", "REDIS_QUEUE_URL", K_STR, OFF(redis_queue_url), 0, 0, ""},
    {"redis.timeout", NULL, K_DBL, OFF(redis_timeout), 0.05, 60, "2"},
    {"server.url", "BACKEND_API_URL", K_STR, OFF(server_url), 0, 0, "http://127.0.0.1:8080"},
    {"server.timeout", NULL, K_DBL, OFF(api_timeout), 0.1, 600, "30"},
    {"server.retries", NULL, K_INT, OFF(api_retries), 0, 10, "3"},
    {"server.backoff", NULL, K_DBL, OFF(api_backoff), 0, 60, "0.5"},
    {"server.breaker_failures", NULL, K_INT, OFF(breaker_failures), 1, 1000, "5"},
    {"server.breaker_scale", NULL, K_DBL, OFF(breaker_scale), 0.0001, 1000, "1"},
    {"token.issuer", NULL, K_STR, OFF(token_issuer), 0, 0, "powernode"},
    {"token.audience", NULL, K_STR, OFF(token_audience), 0, 0, "powernode-api"},
    {"token.ttl", NULL, K_INT, OFF(token_ttl), 30, 3600, "300"},
    {"shutdown_timeout", NULL, K_DBL, OFF(shutdown_timeout), 0, 3600, "25"},
    {"heartbeat.interval", NULL, K_DBL, OFF(heartbeat_interval), 0.1, 60, "2"},
    {"heartbeat.ttl", NULL, K_DBL, OFF(heartbeat_ttl), 0.5, 600, "10"},
    {"poll_interval", NULL, K_DBL, OFF(poll_interval), 0.05, 60, "1"},
    {"dead.max_jobs", NULL, K_INT, OFF(dead_max), 1, 10000000, "10000"},
    {"dead.max_days", NULL, K_INT, OFF(dead_days), 1, 3650, "14"},
    {"retry_scale", NULL, K_DBL, OFF(retry_scale), 0.0001, 1000, "1"},
    {"limits.max_payload_bytes", NULL, K_INT, OFF(max_payload), 256, 64 << 20, "524288"},
    {"limits.max_depth", NULL, K_INT, OFF(max_depth), 2, 1000, "64"},
    {"runaway.max_runs", NULL, K_INT, OFF(runaway_max), 1, 32, "5"},
    {"runaway.window", NULL, K_INT, OFF(runaway_window), 1, 86400, "60"},
    {"runaway.disable", NULL, K_INT, OFF(runaway_disable), 1, 86400, "300"},
    {"tmp_dir", NULL, K_STR, OFF(tmp_dir), 0, 0, "/tmp"},
    {"log_level", NULL, K_STR, OFF(log_level), 0, 0, "info"},
};
#define NKEYS (sizeof keys / sizeof keys[0])
/* Keys with a structure of their own. */
static const char *const struct_keys[] = {"queues", "plugins", "schedules", "job_plugins"};

static void
envname(const char *path, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "PN_WORKER_");
    for (const char *p = path; *p && n + 1 < len; p++)
        out[n++] = (char)(*p == '.' ? '_' : toupper((unsigned char)*p));
    out[n] = '\0';
}

static pnw_ynode_t *
find(pnw_ynode_t *map, const char *key, size_t keylen)
{
    for (pnw_ynode_t *e = map && map->type == PNW_Y_MAP ? map->kids : NULL; e; e = e->next)
        if (strlen(e->str) == keylen && memcmp(e->str, key, keylen) == 0)
            return e;
    return NULL;
}

/* The value node at a dotted path, or NULL. */
static pnw_ynode_t *
lookup(pnw_ynode_t *root, const char *path)
{
    pnw_ynode_t *cur = root;
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        pnw_ynode_t *e = find(cur, path, n);
        if (!e)
            return NULL;
        if (!dot)
            return e->kids;
        cur = e->kids;
        path = dot + 1;
    }
}

static int
set_scalar(pnw_config_t *c, const key_t_ *k, const char *v, const char *where, char *err,
           size_t errlen)
{
    char *end;
    void *dst = (char *)c + k->off;
    if (k->type == K_STR) {
        char *s = strdup(v);
        if (!s)
            return -1;
        free(*(char **)dst);
        *(char **)dst = s;
        return 0;
    }
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || errno != 0 || !isfinite(d) ||
        (k->type == K_INT && d != floor(d))) {
        (void)snprintf(err, errlen, "%s: %s: \"%s\" is not %s", where, k->path, v,
                       k->type == K_INT ? "an integer" : "a number");
        return -1;
    }
    if (d < k->min || d > k->max) {
        (void)snprintf(err, errlen, "%s: %s: %s is outside %g..%g", where, k->path, v, k->min,
                       k->max);
        return -1;
    }
    if (k->type == K_INT)
        *(int *)dst = (int)d;
    else
        *(double *)dst = d;
    return 0;
}

/* Every key in the file must be known: a typo must not silently become a default. */
static int
check_unknown(pnw_ynode_t *map, const char *prefix, const char *file, char *err, size_t errlen)
{
    for (pnw_ynode_t *e = map->kids; e; e = e->next) {
        char path[256];
        int n = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", e->str);
        if (n < 0 || (size_t)n >= sizeof path) { /* a cut path could name a known key */
            (void)snprintf(err, errlen, "%s:%d: unknown key %.200s...", file, e->line, path);
            return -1;
        }
        bool known = false, parent = false;
        for (size_t i = 0; i < NKEYS; i++) {
            if (strcmp(keys[i].path, path) == 0)
                known = true;
            size_t pl = strlen(path);
            if (strncmp(keys[i].path, path, pl) == 0 && keys[i].path[pl] == '.')
                parent = true;
        }
        for (size_t i = 0; !*prefix && i < sizeof struct_keys / sizeof *struct_keys; i++)
            if (strcmp(struct_keys[i], path) == 0)
                known = true;
        if (parent) {
            if (e->kids->type != PNW_Y_MAP) {
                (void)snprintf(err, errlen, "%s:%d: %s must be a mapping", file, e->line, path);
                return -1;
            }
            if (check_unknown(e->kids, path, file, err, errlen) != 0)
                return -1;
        } else if (!known) {
            (void)snprintf(err, errlen, "%s:%d: unknown key %s", file, e->line, path);
            return -1;
        } else if (e->kids->type != PNW_Y_SCALAR &&
                   (*prefix ||
                    (strcmp(path, "queues") != 0 && strcmp(path, "plugins") != 0 &&
                     strcmp(path, "schedules") != 0 && strcmp(path, "job_plugins") != 0))) {
            (void)snprintf(err, errlen, "%s:%d: %s must be a single value", file, e->line, path);
            return -1;
        }
    }
    return 0;
}

static bool
valid_queue(const char *q)
{
    size_t n = strlen(q);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)q[i]) && !isdigit((unsigned char)q[i]) && q[i] != '_' &&
            q[i] != '-')
            return false;
    return true;
}

static int
add_queue(pnw_config_t *c, const char *name, const char *weight, const char *where, char *err,
          size_t errlen)
{
    char *end;
    long w = weight ? strtol(weight, &end, 10) : 1;
    if (!valid_queue(name)) {
        (void)snprintf(err, errlen, "%s: queue name \"%s\" must be 1-64 of a-z 0-9 _ -", where,
                       name);
        return -1;
    }
    if (weight && (*weight == '\0' || *end != '\0' || w < 1 || w > 1000)) {
        (void)snprintf(err, errlen, "%s: queue %s: weight \"%s\" must be an integer 1..1000", where,
                       name, weight);
        return -1;
    }
    for (size_t i = 0; i < c->nqueues; i++)
        if (strcmp(c->queues[i].name, name) == 0) {
            (void)snprintf(err, errlen, "%s: queue %s given twice", where, name);
            return -1;
        }
    if (c->nqueues >= 64) {
        (void)snprintf(err, errlen, "%s: at most 64 queues", where);
        return -1;
    }
    pnw_queue_t *q = realloc(c->queues, (c->nqueues + 1) * sizeof *q);
    if (!q)
        return -1;
    c->queues = q;
    q[c->nqueues].name = strdup(name);
    q[c->nqueues].weight = (int)w;
    c->nqueues++;
    return 0;
}

/* "default:2,mail:1" from the environment. */
static int
queues_from_env(pnw_config_t *c, const char *v, char *err, size_t errlen)
{
    char *copy = strdup(v), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (colon)
            *colon = '\0';
        rc = add_queue(c, tok, colon ? colon + 1 : NULL, "PN_WORKER_QUEUES", err, errlen);
    }
    free(copy);
    return rc;
}

static int
add_plugin(pnw_config_t *c, const char *p)
{
    char **n = realloc(c->plugins, (c->nplugins + 1) * sizeof *n);
    if (!n)
        return -1;
    c->plugins = n;
    n[c->nplugins++] = strdup(p);
    return 0;
}

static int
load_schedules(pnw_config_t *c, pnw_ynode_t *seq, const char *file, char *err, size_t errlen)
{
    if (seq->type != PNW_Y_SEQ) {
        (void)snprintf(err, errlen, "%s:%d: schedules must be a list", file, seq->line);
        return -1;
    }
    for (pnw_ynode_t *it = seq->kids; it; it = it->next) {
        if (it->type != PNW_Y_MAP) {
            (void)snprintf(err, errlen, "%s:%d: a schedule must be a mapping", file, it->line);
            return -1;
        }
        pnw_schedule_t s = {.retry = -1};
        for (pnw_ynode_t *e = it->kids; e; e = e->next) {
            char **dst = !strcmp(e->str, "name")    ? &s.name
                         : !strcmp(e->str, "cron")  ? &s.cron
                         : !strcmp(e->str, "class") ? &s.job_class
                         : !strcmp(e->str, "queue") ? &s.queue
                         : !strcmp(e->str, "args")  ? &s.args_json
                                                    : NULL;
            if (!strcmp(e->str, "retry") && e->kids->type == PNW_Y_SCALAR) {
                s.retry = atoi(e->kids->str);
                continue;
            }
            if (!dst || e->kids->type != PNW_Y_SCALAR) {
                (void)snprintf(err, errlen, "%s:%d: schedules: unknown or non-scalar key %s", file,
                               e->line, e->str);
                goto bad;
            }
            free(*dst);
            *dst = strdup(e->kids->str);
        }
        if (!s.name || !s.cron || !s.job_class) {
            (void)snprintf(err, errlen, "%s:%d: a schedule needs name, cron and class", file,
                           it->line);
            goto bad;
        }
        if (!s.queue)
            s.queue = strdup("default");
        if (!s.args_json)
            s.args_json = strdup("[]");
        if (!valid_queue(s.queue)) {
            (void)snprintf(err, errlen, "%s:%d: schedule %s: bad queue name", file, it->line,
                           s.name);
            goto bad;
        }
        for (size_t i = 0; i < c->nschedules; i++)
            if (!strcmp(c->schedules[i].name, s.name)) {
                (void)snprintf(err, errlen, "%s:%d: schedule %s given twice", file, it->line,
                               s.name);
                goto bad;
            }
        pnw_schedule_t *n = realloc(c->schedules, (c->nschedules + 1) * sizeof *n);
        if (!n)
            goto bad;
        c->schedules = n;
        n[c->nschedules++] = s;
        continue;
    bad:
        free(s.name), free(s.cron), free(s.job_class), free(s.queue), free(s.args_json);
        return -1;
    }
    return 0;
}

static int
load_plugin_sections(pnw_config_t *c, pnw_ynode_t *map, const char *file, char *err, size_t errlen)
{
    if (map->type != PNW_Y_MAP) {
        (void)snprintf(err, errlen, "%s:%d: job_plugins must be a mapping", file, map->line);
        return -1;
    }
    for (pnw_ynode_t *sec = map->kids; sec; sec = sec->next) {
        if (sec->kids->type != PNW_Y_MAP) {
            (void)snprintf(err, errlen, "%s:%d: job_plugins.%s must be a mapping", file, sec->line,
                           sec->str);
            return -1;
        }
        for (pnw_ynode_t *e = sec->kids->kids; e; e = e->next) {
            if (e->kids->type != PNW_Y_SCALAR) {
                (void)snprintf(err, errlen, "%s:%d: job_plugins.%s.%s must be a single value", file,
                               e->line, sec->str, e->str);
                return -1;
            }
            pnw_kv_t *n = realloc(c->plugin_cfg, (c->nplugin_cfg + 1) * sizeof *n);
            if (!n)
                return -1;
            c->plugin_cfg = n;
            n[c->nplugin_cfg++] =
                (pnw_kv_t){strdup(sec->str), strdup(e->str), strdup(e->kids->str)};
        }
    }
    return 0;
}

static int
load_structured(pnw_config_t *c, pnw_ynode_t *root, const char *file, char *err, size_t errlen)
{
    const char *qenv = getenv("PN_WORKER_QUEUES");
    pnw_ynode_t *q = lookup(root, "queues");
    if (qenv && *qenv) {
        if (queues_from_env(c, qenv, err, errlen) != 0)
            return -1;
    } else if (q && q->type == PNW_Y_MAP) {
        for (pnw_ynode_t *e = q->kids; e; e = e->next) {
            char where[300];
            (void)snprintf(where, sizeof where, "%s:%d", file, e->line);
            if (e->kids->type != PNW_Y_SCALAR ||
                add_queue(c, e->str, e->kids->str, where, err, errlen) != 0) {
                if (e->kids->type != PNW_Y_SCALAR)
                    (void)snprintf(err, errlen, "%s: queue %s: weight must be a number", where,
                                   e->str);
                return -1;
            }
        }
    } else if (q && q->type == PNW_Y_SEQ) {
        for (pnw_ynode_t *e = q->kids; e; e = e->next) {
            char where[300];
            (void)snprintf(where, sizeof where, "%s:%d", file, e->line);
            if (e->type != PNW_Y_SCALAR || add_queue(c, e->str, NULL, where, err, errlen) != 0) {
                if (e->type != PNW_Y_SCALAR)
                    (void)snprintf(err, errlen, "%s: queues: items must be names", where);
                return -1;
            }
        }
    } else if (q) {
        (void)snprintf(err, errlen, "%s:%d: queues must be a mapping name: weight or a list", file,
                       q->line);
        return -1;
    }
    if (c->nqueues == 0 && add_queue(c, "default", NULL, "defaults", err, errlen) != 0)
        return -1;

    const char *penv = getenv("PN_WORKER_PLUGINS");
    pnw_ynode_t *p = lookup(root, "plugins");
    if (penv && *penv) {
        char *copy = strdup(penv), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            add_plugin(c, t);
        free(copy);
    } else if (p) {
        if (p->type != PNW_Y_SEQ) {
            (void)snprintf(err, errlen, "%s:%d: plugins must be a list of .so paths", file,
                           p->line);
            return -1;
        }
        for (pnw_ynode_t *e = p->kids; e; e = e->next) {
            if (e->type != PNW_Y_SCALAR) {
                (void)snprintf(err, errlen, "%s:%d: plugins: items must be paths", file, e->line);
                return -1;
            }
            add_plugin(c, e->str);
        }
    }
    pnw_ynode_t *s = lookup(root, "schedules");
    if (s && !(s->type == PNW_Y_SCALAR && !s->str[0]) &&
        load_schedules(c, s, file, err, errlen) != 0)
        return -1;
    pnw_ynode_t *jp = lookup(root, "job_plugins");
    if (jp && !(jp->type == PNW_Y_SCALAR && !jp->str[0]) &&
        load_plugin_sections(c, jp, file, err, errlen) != 0)
        return -1;
    return 0;
}

pnw_config_t *
pnw_config_load(const char *path, char *err, size_t errlen)
{
    pnw_config_t *c = calloc(1, sizeof *c);
    pnw_ynode_t *root = NULL;
    const char *file = path ? path : "defaults";
    if (!c)
        return NULL;
    if (path) {
        root = pnw_yaml_load(path, err, errlen);
        if (!root || check_unknown(root, "", file, err, errlen) != 0)
            goto fail;
        c->path = realpath(path, NULL);
    }
    for (size_t i = 0; i < NKEYS; i++) {
        char where[300], env[128];
        const char *v = keys[i].def;
        (void)snprintf(where, sizeof where, "defaults");
        pnw_ynode_t *n = root ? lookup(root, keys[i].path) : NULL;
        if (n) {
            v = n->str;
            (void)snprintf(where, sizeof where, "%s:%d", file, n->line);
        }
        envname(keys[i].path, env, sizeof env);
        const char *e = getenv(env);
        if (!e && keys[i].env)
            e = getenv(keys[i].env), snprintf(env, sizeof env, "%s", keys[i].env);
        if (e && *e) {
            v = e;
            (void)snprintf(where, sizeof where, "environment %s", env);
        }
        if (set_scalar(c, &keys[i], v, where, err, errlen) != 0)
            goto fail;
    }
    const char *secret = getenv("WORKER_SERVICE_TOKEN");
    c->token_secret = strdup(secret ? secret : "");
    if (c->heartbeat_ttl < 2 * c->heartbeat_interval) {
        (void)snprintf(err, errlen,
                       "%s: heartbeat.ttl (%g) must be at least twice heartbeat.interval "
                       "(%g), or healthy workers would look dead",
                       file, c->heartbeat_ttl, c->heartbeat_interval);
        goto fail;
    }
    if (pnw_log_level_parse(c->log_level) < 0) {
        (void)snprintf(err, errlen, "%s: log_level: \"%s\" must be debug, info, warn or error",
                       file, c->log_level);
        goto fail;
    }
    if (load_structured(c, root ? root : &(pnw_ynode_t){.type = PNW_Y_MAP}, file, err, errlen) != 0)
        goto fail;
    pnw_yaml_free(root);
    return c;
fail:
    pnw_yaml_free(root);
    pnw_config_free(c);
    return NULL;
}

void
pnw_config_free(pnw_config_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].type == K_STR)
            free(*(char **)((char *)c + keys[i].off));
    for (size_t i = 0; i < c->nqueues; i++)
        free(c->queues[i].name);
    free(c->queues);
    for (size_t i = 0; i < c->nplugins; i++)
        free(c->plugins[i]);
    free(c->plugins);
    for (size_t i = 0; i < c->nschedules; i++) {
        pnw_schedule_t *s = &c->schedules[i];
        free(s->name), free(s->cron), free(s->job_class), free(s->queue), free(s->args_json);
    }
    free(c->schedules);
    for (size_t i = 0; i < c->nplugin_cfg; i++)
        free(c->plugin_cfg[i].section), free(c->plugin_cfg[i].key), free(c->plugin_cfg[i].value);
    free(c->plugin_cfg);
    free(c->token_secret);
    free(c->path);
    free(c);
}

int
pnw_config_set_plugins(pnw_config_t *c, const char *const *paths, size_t n)
{
    for (size_t i = 0; i < c->nplugins; i++)
        free(c->plugins[i]);
    c->nplugins = 0;
    for (size_t i = 0; i < n; i++)
        if (add_plugin(c, paths[i]) != 0)
            return -1;
    return 0;
}

const char *
pnw_config_plugin_key(const pnw_config_t *c, const char *plugin, const char *key)
{
    char env[200];
    int n = snprintf(env, sizeof env, "PN_WORKER_JOB_PLUGINS_%s_%s", plugin, key);
    bool fits = n >= 0 && (size_t)n < sizeof env; /* else no variable can set it: not a cut one */
    for (char *p = env; *p; p++)
        *p = (char)(*p == '.' ? '_' : toupper((unsigned char)*p));
    const char *e = fits ? getenv(env) : NULL;
    if (e)
        return e;
    for (size_t i = 0; i < c->nplugin_cfg; i++)
        if (!strcmp(c->plugin_cfg[i].section, plugin) && !strcmp(c->plugin_cfg[i].key, key))
            return c->plugin_cfg[i].value;
    return NULL;
}
