/* powernode-worker: load the config and job plugins, register with Redis, run the job pool
 * and housekeeping, and stop cleanly on SIGTERM (or quietly on SIGTSTP / SIGUSR1). */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cryptoload.h"
#include "curlload.h"
#include "house.h"
#include "local.h"
#include "pool.h"
#include "runtime.h"
#include "scripts.h"
#include "wlog.h"
#include "wrandom.h"

pnw_rt_t pnw_rt;

static void
usage(void)
{
    (void)fprintf(
        stderr,
        "usage: powernode-worker [--config FILE] [--plugin PATH.so]... [--check]\n"
        "       powernode-worker --run JOB --file PATH [--file PATH]... --out DIR\n"
        "                        [--config FILE] [--plugin PATH.so]... [--arg key=value]...\n"
        "                        [--set key=value]... [--args JSON] [--in-process]\n"
        "                        [--sha256sums FILE]\n"
        "  --config FILE   worker YAML config (default: $PN_WORKER_CONFIG, else built-in "
        "defaults)\n"
        "  --plugin PATH   job plugin to load instead of the config's list (repeatable)\n"
        "  --check         load the config and job plugins, print the classes, exit\n"
        "  --run JOB       local mode: run the job class JOB (or its short name, e.g.\n"
        "                  thumbnail) once per --file, with no Redis, server or network;\n"
        "                  derivatives and result.json go to DIR (DIR/<file name>/ for\n"
        "                  several files). Exit 0 ok, 1 a job failed, 2 usage.\n"
        "  --arg k=v       a job_parameters entry of the local processing job (v as JSON\n"
        "                  when it parses, else a string)\n"
        "  --set k=v       job_plugins.<plugin>.<k> for this run\n"
        "  --args JSON     the job's argument array (default: [local processing job id]\n"
        "                  when its first argument is a string, else [])\n"
        "  --in-process    run isolated classes in this process, without the child's\n"
        "                  limits (benchmarks on trusted files only)\n"
        "  --sha256sums F  the files' SHA-256 as an upload computed them (sha256sum\n"
        "                  output); without it the local server hashes a file when a job\n"
        "                  asks for its record\n"
        "  --version       print the version\n");
}

static int
make_identity(void)
{
    unsigned char r[6];
    if (gethostname(pnw_rt.hostname, sizeof pnw_rt.hostname - 1) != 0)
        (void)snprintf(pnw_rt.hostname, sizeof pnw_rt.hostname, "localhost");
    if (pnw_random(r, sizeof r) != 0)
        return -1;
    (void)snprintf(pnw_rt.identity, sizeof pnw_rt.identity, "%s:%d:%02x%02x%02x%02x%02x%02x",
                   pnw_rt.hostname, (int)getpid(), r[0], r[1], r[2], r[3], r[4], r[5]);
    return 0;
}

/* Wait for Redis, refuse an evicting one, register this process. */
static int
connect_and_register(sigset_t *sigs)
{
    pnw_redis_t *r = pnw_redis_new(&pnw_rt.addr, pnw_rt.cfg->redis_timeout);
    double last_log = 0;
    int rc = -1;
    for (;;) {
        redisReply *rep = pnw_redis_cmdf(r, "CONFIG GET maxmemory-policy");
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
            const char *pol = rep->element[1]->str;
            if (strcmp(pol, "noeviction") != 0) {
                pnw_log(PNW_ERROR, "redis",
                        "redis uses maxmemory-policy %s; job queues need "
                        "noeviction",
                        pol);
                freeReplyObject(rep);
                break;
            }
        }
        if (rep && rep->type != REDIS_REPLY_ERROR) {
            freeReplyObject(rep);
            size_t nq = pnw_rt.cfg->nqueues;
            const char **argv = calloc(nq + 2, sizeof *argv);
            char ttl[32];
            (void)snprintf(ttl, sizeof ttl, "%ld", (long)(pnw_rt.cfg->heartbeat_ttl * 1000));
            argv[0] = pnw_rt.identity;
            argv[1] = ttl;
            for (size_t i = 0; i < nq; i++)
                argv[i + 2] = pnw_rt.cfg->queues[i].name;
            rep = pnw_redis_eval(r, &pnw_script_register, 0, (int)nq + 2, argv, NULL);
            free(argv);
            if (rep && rep->type == REDIS_REPLY_INTEGER)
                rc = 0;
            else
                pnw_log(PNW_ERROR, "redis", "cannot register: %s", pnw_redis_error(r));
            if (rep)
                freeReplyObject(rep);
            break;
        }
        if (rep) /* CONFIG may be renamed or forbidden: not fatal */
            pnw_log(PNW_WARN, "redis", "cannot read maxmemory-policy: %s", rep->str);
        if (rep) {
            freeReplyObject(rep);
            rep = NULL;
        }
        if (pnw_now() - last_log > 5) {
            pnw_log(PNW_WARN, "redis", "waiting for redis %s:%d db %d: %s", pnw_rt.addr.host,
                    pnw_rt.addr.port, pnw_rt.addr.db, pnw_redis_error(r));
            last_log = pnw_now();
        }
        struct timespec ts = {0, 500000000};
        if (sigtimedwait(sigs, NULL, &ts) > 0)
            break; /* a stop signal while waiting */
    }
    pnw_redis_free(r);
    return rc;
}

/* Options taking a value that may repeat: collected into the array of o. */
static bool
list_opt(const char *a, const char *v, pnw_local_opts_t *o)
{
    static const struct {
        const char *name;
        size_t off, noff;
    } lists[] = {
        {"--file", offsetof(pnw_local_opts_t, files), offsetof(pnw_local_opts_t, nfiles)},
        {"--plugin", offsetof(pnw_local_opts_t, plugins), offsetof(pnw_local_opts_t, nplugins)},
        {"--set", offsetof(pnw_local_opts_t, sets), offsetof(pnw_local_opts_t, nsets)},
        {"--arg", offsetof(pnw_local_opts_t, params), offsetof(pnw_local_opts_t, nparams)},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (!strcmp(a, lists[i].name)) {
            const char **arr = *(const char ***)((char *)o + lists[i].off);
            size_t *n = (size_t *)((char *)o + lists[i].noff);
            arr[(*n)++] = v;
            return true;
        }
    return false;
}

static void
free_opts(pnw_local_opts_t *o)
{
    free(o->files), free(o->plugins), free(o->sets), free(o->params);
}

int
main(int argc, char **argv)
{
    const char *cfg_path = getenv("PN_WORKER_CONFIG");
    const char *exec_class = NULL;
    int attempt = 1;
    bool check = false;
    pnw_local_opts_t lo = {0};
    lo.files = calloc((size_t)argc, sizeof *lo.files);
    lo.plugins = calloc((size_t)argc, sizeof *lo.plugins);
    lo.sets = calloc((size_t)argc, sizeof *lo.sets);
    lo.params = calloc((size_t)argc, sizeof *lo.params);
    if (!lo.files || !lo.plugins || !lo.sets || !lo.params) {
        free_opts(&lo);
        return 1;
    }
    for (int i = 1; i < argc && argv[i]; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--config") && v)
            cfg_path = argv[++i];
        else if (!strcmp(argv[i], "--check"))
            check = true;
        else if (!strcmp(argv[i], "--exec-job") && v)
            exec_class = argv[++i];
        else if (!strcmp(argv[i], "--attempt") && v)
            attempt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--run") && v)
            lo.job = argv[++i];
        else if (!strcmp(argv[i], "--out") && v)
            lo.out = argv[++i];
        else if (!strcmp(argv[i], "--args") && v)
            lo.args_json = argv[++i];
        else if (!strcmp(argv[i], "--in-process"))
            lo.in_process = true;
        else if (!strcmp(argv[i], "--sha256sums") && v)
            lo.sha256sums = argv[++i];
        else if (v && argv[i][0] == '-' && list_opt(argv[i], v, &lo))
            i++;
        else if (!strcmp(argv[i], "--version")) {
            printf("powernode-worker 0.1 (job ABI %d)\n", PN_JOB_ABI);
            free_opts(&lo);
            return 0;
        } else {
            static const char *const valued[] = {
                "--config", "--exec-job", "--attempt", "--run", "--out",       "--args",
                "--file",   "--plugin",   "--set",     "--arg", "--sha256sums"};
            bool known = false;
            for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
                known = known || !strcmp(argv[i], valued[k]);
            if (known && !v)
                (void)fprintf(stderr, "powernode-worker: %s needs a value\n", argv[i]);
            else
                (void)fprintf(stderr, "powernode-worker: unknown argument %s\n", argv[i]);
            usage();
            free_opts(&lo);
            return 2;
        }
    }
    if (cfg_path && !*cfg_path)
        cfg_path = NULL;
    /* Local mode: --run, or an isolated child of it (--exec-job with --out). */
    bool local = lo.job || (exec_class && lo.out);
    if (local && (!lo.out || lo.nfiles == 0 || (exec_class && lo.nfiles != 1) ||
                  (lo.job && (exec_class || check)))) {
        (void)fprintf(stderr, "powernode-worker: --run needs --file PATH and --out DIR\n");
        usage();
        free_opts(&lo);
        return 2;
    }
    if (!local && (lo.nfiles || lo.out || lo.nsets || lo.nparams || lo.args_json || lo.in_process ||
                   lo.sha256sums)) {
        (void)fprintf(stderr, "powernode-worker: --file, --out, --arg, --set, --args, "
                              "--in-process and --sha256sums go with --run\n");
        usage();
        free_opts(&lo);
        return 2;
    }
    /* Set-up failures of a local run are usage errors (2), not job failures (1). */
    int fail = local ? 2 : 1;

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTSTP);
    sigaddset(&sigs, SIGUSR1);
    (void)signal(SIGPIPE, SIG_IGN);
    if (!exec_class && !local)                   /* a local run stops on ^C like any command */
        pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every thread inherits the mask */

    char err[1024];
    pnw_config_t *cfg = pnw_config_load(cfg_path, err, sizeof err);
    if (!cfg || (lo.nplugins && pnw_config_set_plugins(cfg, lo.plugins, lo.nplugins) != 0)) {
        pnw_log(PNW_ERROR, "config", "%s", cfg ? "out of memory" : err);
        pnw_config_free(cfg);
        free_opts(&lo);
        return fail;
    }
    pnw_log_set_level((pnw_level_t)pnw_log_level_parse(cfg->log_level));
    pnw_rt.cfg = cfg;
    pnw_rt.clock = &pnw_clock_system;
    pnw_rt.child = exec_class != NULL;
    pnw_rt.local = local;
    pnw_rt.started_at = pnw_now();
    pthread_mutex_init(&pnw_rt.mu, NULL);
    pthread_cond_init(&pnw_rt.work_cv, NULL);
    pthread_cond_init(&pnw_rt.disp_cv, NULL);
    pthread_cond_init(&pnw_rt.idle_cv, NULL);
    ssize_t n = readlink("/proc/self/exe", pnw_rt.self_exe, sizeof pnw_rt.self_exe - 1);
    if (n > 0)
        pnw_rt.self_exe[n] = '\0';
    err[0] = '\0';
    if (!local &&
        (make_identity() != 0 || pnw_redis_addr_parse(cfg->redis_url, cfg->redis_queue_url,
                                                      &pnw_rt.addr, err, sizeof err) != 0)) {
        pnw_log(PNW_ERROR, "config", "%s", err[0] ? err : "no random bytes for an identity");
        pnw_config_free(cfg);
        free_opts(&lo);
        return 1;
    }
    if (local)
        (void)snprintf(pnw_rt.identity, sizeof pnw_rt.identity, "local:%d", (int)getpid());
    /* The daemon talks to the server from its first job (signed tokens, scripts by SHA-1):
     * without a usable libcurl or libcrypto it stops here with the reason. Isolated children and
     * local runs open them when a job first calls or hashes. */
    if (!local && !exec_class && (!pnw_curl(err, sizeof err) || !pnw_crypto(err, sizeof err))) {
        pnw_log(PNW_ERROR, "api", "%s", err);
        pnw_config_free(cfg);
        free_opts(&lo);
        return 1;
    }
    int rc = fail;
    pnw_rt.breakers = pnw_breakers_new(cfg->breaker_failures, cfg->breaker_scale);
    pnw_rt.api = pnw_api_new(cfg, pnw_rt.breakers);
    for (size_t i = 0; i < cfg->nplugins; i++)
        if (pnw_plugins_open(&pnw_rt.reg, cfg->plugins[i], err, sizeof err) != 0) {
            pnw_log(PNW_ERROR, "loader", "%s", err);
            goto out;
        }
    pnw_rt.track = pnw_track_new(pnw_rt.reg.nclasses, cfg->runaway_max, cfg->runaway_window,
                                 cfg->runaway_disable);
    if (!pnw_rt.breakers || !pnw_rt.api || !pnw_rt.track)
        goto out;
    if (pnw_plugins_init(&pnw_rt.reg, &pnw_host, err, sizeof err) != 0) {
        pnw_log(PNW_ERROR, "loader", "%s", err);
        goto out;
    }
    if (local && pnw_rt.reg.nclasses == 0) {
        pnw_log(PNW_ERROR, "loader",
                "no job plugins loaded: give --plugin PATH.so or a config listing plugins");
        goto out;
    }
    if (exec_class && local) {
        const pnw_class_t *c = pnw_plugins_find(&pnw_rt.reg, exec_class);
        if (pnw_local_begin(exec_class, lo.files[0], lo.out, &lo, false, err, sizeof err) != 0) {
            pnw_log(PNW_ERROR, "local", "%s", err);
            goto out;
        }
        rc = c ? pnw_isolate_child(exec_class, attempt) : 2;
        pnw_local_end();
        goto out;
    }
    if (exec_class) {
        rc = pnw_isolate_child(exec_class, attempt);
        goto out;
    }
    if (lo.job) {
        rc = pnw_local_run(&lo);
        goto out;
    }
    if (check) {
        for (size_t i = 0; i < pnw_rt.reg.nclasses; i++) {
            const pnw_class_t *c = &pnw_rt.reg.classes[i];
            printf("%s plugin=%s queue=%s retry=%d timeout=%d isolated=%s\n", c->c.name,
                   c->plugin->desc->name, c->c.queue ? c->c.queue : "default", c->c.retry,
                   c->c.timeout_s, c->c.isolated ? "yes" : "no");
        }
        rc = 0;
        goto out;
    }
    if (!cfg->token_secret[0])
        pnw_log(PNW_WARN, "config", "WORKER_SERVICE_TOKEN is not set: API calls will fail");
    if (connect_and_register(&sigs) != 0)
        goto out;
    if (pnw_house_start() != 0 || pnw_pool_start() != 0) {
        pnw_log(PNW_ERROR, "lifecycle", "cannot start threads");
        _exit(1);
    }
    pnw_log(PNW_INFO, "lifecycle", "started identity=%s concurrency=%d queues=%zu classes=%zu",
            pnw_rt.identity, cfg->concurrency, cfg->nqueues, pnw_rt.reg.nclasses);
    for (;;) {
        int sig = sigwaitinfo(&sigs, NULL);
        if (sig < 0 && errno == EINTR)
            continue;
        if (sig == SIGTSTP || sig == SIGUSR1) {
            if (!pnw_rt.quiet)
                pnw_log(PNW_INFO, "lifecycle", "quiet: no more fetching; running jobs go on");
            pnw_rt.quiet = 1;
            pnw_pool_wake();
            continue;
        }
        break;
    }
    pnw_log(PNW_INFO, "lifecycle", "stopping: no more fetching");
    pnw_rt.stopping = 1;
    pnw_pool_wake();
    if (!pnw_pool_drain(cfg->shutdown_timeout)) {
        pnw_house_stop();
        int back = pnw_house_release();
        pnw_log(PNW_WARN, "shutdown",
                "shutdown timeout of %.0f s passed: %d unfinished jobs "
                "returned to their queues; exiting",
                cfg->shutdown_timeout, back);
        _exit(0); /* job threads are still running: no orderly teardown possible */
    }
    pnw_pool_join();
    pnw_house_stop();
    pnw_house_release();
    pnw_log(PNW_INFO, "lifecycle", "stopped cleanly");
    rc = 0;
out:
    pnw_plugins_close(&pnw_rt.reg);
    pnw_track_free(pnw_rt.track);
    pnw_api_free(pnw_rt.api);
    pnw_breakers_free(pnw_rt.breakers);
    pnw_context_thread_done();
    pnw_curl_cleanup();
    pnw_config_free(cfg);
    free_opts(&lo);
    return rc;
}
