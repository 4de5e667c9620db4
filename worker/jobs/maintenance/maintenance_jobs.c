/* The maintenance jobs. Paths on the server are configurable so tests can point them at a
 * stand-in; the defaults are the routes listed in worker/README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maintenance.h"

static int
path_or(pn_job_t *job, const char *key, const char *def, const char **out)
{
    const char *v = pn_job_config(job, key);
    *out = v && *v ? v : def;
    return 0;
}

int
mnt_init(const pn_job_host_t *host)
{
    if (host->abi != PN_JOB_ABI || !PN_JOB_HOST_HAS(host, breaker_report))
        return -1;
    return 0;
}

int
mnt_noop(pn_job_t *job, const json_t *args)
{
    (void)job, (void)args;
    return PN_JOB_OK;
}

/* One GET to the server (args[0] = path, else ping_path). */
int
mnt_api_call(pn_job_t *job, const json_t *args)
{
    const char *path;
    path_or(job, "ping_path", "/api/v1/worker/ping", &path);
    if (json_array_size(args) > 0)
        path = json_string_value(json_array_get(args, 0));
    if (!path || path[0] != '/') {
        pn_job_fail(job, "path must start with /");
        return PN_JOB_DEAD;
    }
    pn_job_response_t res;
    if (pn_job_api(job, "GET", path, NULL, NULL, &res) != 0)
        return PN_JOB_API_ERROR;
    json_decref(res.body);
    if (res.status >= 400) {
        pn_job_fail(job, "GET %s answered %ld", path, res.status);
        return res.status >= 500 ? PN_JOB_API_ERROR : PN_JOB_ERROR;
    }
    return PN_JOB_OK;
}

static void
sleep_ms(pn_job_t *job, long ms)
{
    /* In slices: a stopping worker still lets this finish (it is short), but a long one
     * notices. */
    while (ms > 0) {
        long d = ms > 50 ? 50 : ms;
        struct timespec ts = {d / 1000, (d % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= d;
        (void)job;
    }
}

/* Report this job's jid to the server through an idempotent call: args [anything, work_ms].
 * The Idempotency-Key is derived from the jid, so a re-run after a crash is applied once. */
int
mnt_record(pn_job_t *job, const json_t *args)
{
    const char *path;
    char key[128];
    path_or(job, "record_path", "/api/v1/worker/job_results", &path);
    if (json_array_size(args) > 1)
        sleep_ms(job, (long)json_integer_value(json_array_get(args, 1)));
    json_t *body = json_pack("{s:s, s:O?}", "jid", pn_job_jid(job), "ref", json_array_get(args, 0));
    (void)snprintf(key, sizeof key, "record:%s", pn_job_jid(job));
    pn_job_response_t res;
    int rc = pn_job_api(job, "POST", path, body, key, &res);
    json_decref(body);
    if (rc != 0)
        return PN_JOB_API_ERROR;
    json_decref(res.body);
    if (res.status >= 300) {
        pn_job_fail(job, "POST %s answered %ld", path, res.status);
        return res.status >= 500 ? PN_JOB_API_ERROR : PN_JOB_ERROR;
    }
    pn_job_count(job, "recorded", 1);
    return PN_JOB_OK;
}

/* The reconciler lives in the server (it reads PostgreSQL, the worker never does): this job
 * asks it to re-push outbox rows that Redis lost. Scheduled every minute in worker.yaml. */
int
mnt_reconcile(pn_job_t *job, const json_t *args)
{
    (void)args;
    const char *path;
    path_or(job, "reconcile_path", "/api/v1/internal/jobs/reconcile", &path);
    pn_job_response_t res;
    if (pn_job_api(job, "POST", path, NULL, NULL, &res) != 0)
        return PN_JOB_API_ERROR;
    json_decref(res.body);
    if (res.status >= 300) {
        pn_job_fail(job, "POST %s answered %ld", path, res.status);
        return PN_JOB_ERROR;
    }
    return PN_JOB_OK;
}

static bool
hooks_on(pn_job_t *job)
{
    const char *v = pn_job_config(job, "test_hooks");
    if (v && (!strcmp(v, "true") || !strcmp(v, "1")))
        return true;
    pn_job_fail(job, "test hooks are disabled (job_plugins.maintenance.test_hooks)");
    return false;
}

int
mnt_fail(pn_job_t *job, const json_t *args)
{
    if (!hooks_on(job))
        return PN_JOB_DEAD;
    const char *m = json_string_value(json_array_get(args, 0));
    pn_job_fail(job, "%s", m ? m : "boom");
    return PN_JOB_ERROR;
}

/* args [seconds, ...]: a long job. */
int
mnt_sleep(pn_job_t *job, const json_t *args)
{
    if (!hooks_on(job))
        return PN_JOB_DEAD;
    sleep_ms(job, (long)(json_number_value(json_array_get(args, 0)) * 1000));
    return PN_JOB_OK;
}

int
mnt_abort(pn_job_t *job, const json_t *args)
{
    (void)args;
    if (!hooks_on(job))
        return PN_JOB_DEAD;
    pn_job_log(job, PN_JOB_LOG_WARN, "aborting on purpose (test hook)");
    abort();
}

/* args ["cpu"|"memory"|"sleep"]: hits the isolation limits. */
int
mnt_hog(pn_job_t *job, const json_t *args)
{
    if (!hooks_on(job))
        return PN_JOB_DEAD;
    const char *what = json_string_value(json_array_get(args, 0));
    if (!what)
        what = ""; /* not a string: none of the hogs below */
    if (!strcmp(what, "cpu")) {
        volatile unsigned long x = 0;
        for (;;)
            x++;
    }
    if (!strcmp(what, "memory")) {
        /* Each block is kept on purpose: the point is to reach the memory limit. */
        for (int i = 0; i < 1024; i++) { /* NOLINT(clang-analyzer-unix.Malloc): see above */
            char *p = malloc(16u << 20);
            if (!p) {
                pn_job_fail(job, "allocation %d of 16 MiB failed (memory limit)", i);
                return PN_JOB_ERROR;
            }
            memset(p, 1, 16u << 20);
        }
        return PN_JOB_OK;
    }
    if (!strcmp(what, "sleep"))
        sleep_ms(job, 60000);
    if (!strcmp(what, "count")) { /* counters from a child reach the parent's heartbeat */
        pn_job_count(job, "counted", 3);
        pn_job_host_->timing(job, "step", 12.0);
    }
    return PN_JOB_OK;
}

/* Writes a file into its working directory and reports the directory in the fail reason of
 * a deliberately dead-lettered run, so a test can check the directory is gone afterwards. */
int
mnt_workdir(pn_job_t *job, const json_t *args)
{
    (void)args;
    const char *dir = pn_job_workdir(job);
    if (!dir)
        return PN_JOB_ERROR;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/scratch.txt", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return PN_JOB_ERROR;
    FILE *f = fopen(path, "w");
    if (!f)
        return PN_JOB_ERROR;
    bool wrote = fputs("scratch\n", f) >= 0;
    if (fclose(f) != 0 || !wrote)
        return PN_JOB_ERROR;
    pn_job_fail(job, "workdir=%s", dir);
    return PN_JOB_DEAD;
}

/* The outcome of a head hook as the fail reason of a dead-lettered run: "head failed
 * <status>", or "head <status> <bytes>: <first bytes>". */
static int
head_outcome(pn_job_t *job, int rc, long status, long bytes, const char *got)
{
    if (rc != 0)
        pn_job_fail(job, "head failed %ld", status);
    else
        pn_job_fail(job, "head %ld %ld: %s", status, bytes, got);
    return PN_JOB_DEAD;
}

/* args [path, head_bytes]: api_download_head into the working directory, then its outcome
 * (head_outcome), so a test sees what arrived from a server that honours or ignores the
 * Range. */
int
mnt_fetch_head(pn_job_t *job, const json_t *args)
{
    if (!hooks_on(job))
        return PN_JOB_DEAD;
    const char *dir = pn_job_workdir(job), *src = json_string_value(json_array_get(args, 0));
    json_int_t want = json_integer_value(json_array_get(args, 1));
    char path[4096], got[33] = "";
    int n = dir ? snprintf(path, sizeof path, "%s/head", dir) : -1;
    if (n < 0 || (size_t)n >= sizeof path || !src || want < 0)
        return PN_JOB_ERROR;
    pn_job_response_t res = {0};
    int rc = pn_job_api_download_head(job, src, path, (uint64_t)want, &res);
    json_decref(res.body);
    FILE *f = rc == 0 ? fopen(path, "rb") : NULL;
    size_t k = f ? fread(got, 1, sizeof got - 1, f) : 0;
    long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (f)
        (void)fclose(f);
    got[k] = '\0';
    return head_outcome(job, rc, res.status, size, got);
}

/* api_read_head's answer, as mnt_fetch_head gives api_download_head's (test hook). */
int
mnt_read_head(pn_job_t *job, const json_t *args)
{
    if (!hooks_on(job))
        return PN_JOB_DEAD;
    const char *src = json_string_value(json_array_get(args, 0));
    json_int_t want = json_integer_value(json_array_get(args, 1));
    char got[33] = "";
    size_t n = 0;
    if (!src || want < 0 || !PN_JOB_HOST_HAS(pn_job_host_, api_read_head))
        return PN_JOB_ERROR;
    pn_job_response_t res = {0};
    int rc = pn_job_api_read_head(job, src, got, want < 32 ? (size_t)want : 32, &n, &res);
    json_decref(res.body);
    got[n] = '\0';
    return head_outcome(job, rc, res.status, (long)n, got);
}
