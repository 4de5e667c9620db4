/* The job context: the host table's functions over one running job (pn_job_t), and
 * pnw_job_execute, which runs one attempt and cleans up after it. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "payload.h"
#include "runtime.h"
#include "wlog.h"

struct pn_job {
    const pnw_class_t *cls;
    const char *jid;
    int attempt;
    char *msg;
    size_t msglen;
    bool api_failed;
    int mutating;
    char *workdir;
    double deadline;
};

static __thread pnw_redis_t *tl_redis;

void
pnw_context_thread_done(void)
{
    pnw_redis_free(tl_redis);
    tl_redis = NULL;
    pnw_api_thread_done();
}

static pnw_redis_t *
redis_conn(void)
{
    if (!tl_redis)
        tl_redis = pnw_redis_new(&pnw_rt.addr, pnw_rt.cfg->redis_timeout);
    return tl_redis;
}

static void h_log(pn_job_t *job, pn_job_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
h_log(pn_job_t *job, pn_job_log_level_t level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!pnw_log_enabled((pnw_level_t)level))
        return;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (job)
        pnw_log((pnw_level_t)level, "job", "class=%s jid=%s attempt=%d %s", job->cls->c.name,
                job->jid, job->attempt, line);
    else
        pnw_log((pnw_level_t)level, "job", "%s", line);
}

static const char *
h_jid(pn_job_t *job)
{
    return job->jid;
}

static const char *
h_class(pn_job_t *job)
{
    return job->cls->c.name;
}

static int
h_attempt(pn_job_t *job)
{
    return job->attempt;
}

static void h_fail(pn_job_t *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
h_fail(pn_job_t *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(job->msg, job->msglen, fmt, ap);
    va_end(ap);
}

static bool
mutating(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

/* Every API call of a job: Idempotency-Key, deadline, shutdown, outcome bookkeeping. */
static int
call(pn_job_t *job, pnw_api_req_t *rq, const char *idem_key, pn_job_response_t *res)
{
    char key[200], why[512] = "";
    rq->deadline = job->deadline;
    rq->stop = &pnw_rt.stopping;
    if (mutating(rq->method)) {
        job->mutating++;
        if (!idem_key) {
            /* Stable across attempts: same jid, same order of calls. */
            (void)snprintf(key, sizeof key, "%s:%d", job->jid, job->mutating);
            idem_key = key;
        }
        rq->idem_key = idem_key;
    }
    long status = 0;
    json_t *reply = NULL;
    int rc = pnw_rt.local ? pnw_local_call(rq, &status, &reply, why, sizeof why)
                          : pnw_api_call(pnw_rt.api, rq, &status, &reply, why, sizeof why);
    if (rq->idem_key == key)
        rq->idem_key = NULL; /* key[] ends with this call; rq belongs to the caller */
    if (res) {
        res->status = status;
        res->body = reply;
    } else {
        json_decref(reply);
    }
    if (rc != 0) {
        job->api_failed = true;
        (void)snprintf(job->msg, job->msglen, "%s", why);
        pnw_log(PNW_WARN, "api", "class=%s jid=%s %s", job->cls->c.name, job->jid, why);
    }
    return rc;
}

static int
h_api(pn_job_t *job, const char *method, const char *path, const json_t *body, const char *idem_key,
      pn_job_response_t *res)
{
    pnw_api_req_t rq = {.method = method, .path = path, .body = body};
    return call(job, &rq, idem_key, res);
}

/* A refusal of the job's own arguments: no request was made, so not an API error. */
static int
refuse(pn_job_t *job, pn_job_response_t *res, const char *what, const char *file)
{
    if (res)
        *res = (pn_job_response_t){0};
    (void)snprintf(job->msg, job->msglen, "%s: %s", what, file ? file : "(null)");
    pnw_log(PNW_WARN, "api", "class=%s jid=%s %s: %s", job->cls->c.name, job->jid, what,
            file ? file : "(null)");
    return -1;
}

/* Is the (resolved) path `real` inside the attempt's workdir? */
static bool
in_workdir(pn_job_t *job, const char *real)
{
    char wd[PATH_MAX];
    if (!job->workdir || !realpath(job->workdir, wd))
        return false;
    size_t n = strlen(wd);
    return strncmp(real, wd, n) == 0 && real[n] == '/' && real[n + 1];
}

static bool
header_safe(const char *v)
{
    return !v || (strlen(v) < 200 && !strpbrk(v, "\r\n"));
}

static int
download_to(pn_job_t *job, const char *path, const char *dest_file, uint64_t max_bytes,
            uint64_t head_bytes, pn_job_response_t *res)
{
    char dir[PATH_MAX], real[PATH_MAX];
    const char *slash = dest_file ? strrchr(dest_file, '/') : NULL;
    const char *base = slash ? slash + 1 : dest_file;
    if (!dest_file || !slash || !*base || !strcmp(base, ".") || !strcmp(base, "..") ||
        (size_t)(slash - dest_file) >= sizeof dir)
        return refuse(job, res, "api_download: not a file path inside the job's workdir",
                      dest_file);
    (void)snprintf(dir, sizeof dir, "%.*s", (int)(slash - dest_file), dest_file);
    char rdir[PATH_MAX];
    if (!realpath(dir[0] ? dir : "/", rdir) ||
        snprintf(real, sizeof real, "%s/%s", rdir, base) >= (int)sizeof real ||
        !in_workdir(job, real))
        return refuse(job, res, "api_download: destination outside the job's workdir", dest_file);
    /* O_NOFOLLOW: a symbolic link planted at the name is not followed out of the workdir. */
    int fd = open(real, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return refuse(job, res, "api_download: cannot create", dest_file);
    }
    pnw_api_req_t rq = {.method = "GET",
                        .path = path,
                        .sink = true,
                        .sink_fd = fd,
                        .sink_max = max_bytes,
                        .range_len = head_bytes};
    pn_job_response_t mine = {0}, *r = res ? res : &mine;
    int rc = call(job, &rq, NULL, r);
    close(fd);
    /* Only a complete 2xx body stays; a partial or error answer must not look like content. */
    if (rc != 0 || r->status < 200 || r->status >= 300)
        unlink(real);
    json_decref(mine.body);
    return rc;
}

static int
h_api_download(pn_job_t *job, const char *path, const char *dest_file, uint64_t max_bytes,
               pn_job_response_t *res)
{
    return download_to(job, path, dest_file, max_bytes, 0, res);
}

static int
h_api_download_head(pn_job_t *job, const char *path, const char *dest_file, uint64_t head_bytes,
                    pn_job_response_t *res)
{
    if (head_bytes == 0)
        return refuse(job, res, "api_download_head: head_bytes must be positive", dest_file);
    return download_to(job, path, dest_file, 0, head_bytes, res);
}

/* A memory file is the sink: the API client streams a body to a descriptor, and a job reading a
 * header needs neither a workdir nor a file in it (their creation and removal cost more than
 * the metadata job's own work on a small file). */
static int
h_api_read_head(pn_job_t *job, const char *path, void *buf, size_t cap, size_t *len,
                pn_job_response_t *res)
{
    if (len)
        *len = 0;
    if (!buf || !len || cap == 0 || cap > PN_JOB_READ_HEAD_MAX)
        return refuse(job, res, "api_read_head: cap must be 1 byte to 16 MiB", path);
    int fd = memfd_create("pn-head", MFD_CLOEXEC);
    if (fd < 0)
        return refuse(job, res, "api_read_head: cannot create a memory file", path);
    pnw_api_req_t rq = {
        .method = "GET", .path = path, .sink = true, .sink_fd = fd, .range_len = cap};
    pn_job_response_t mine = {0}, *r = res ? res : &mine;
    int rc = call(job, &rq, NULL, r);
    bool ok = rc == 0 && r->status >= 200 && r->status < 300;
    ssize_t n = ok ? pread(fd, buf, cap, 0) : 0;
    close(fd);
    json_decref(mine.body);
    if (n < 0)
        return refuse(job, res, "api_read_head: cannot read the memory file", path);
    *len = (size_t)n;
    return rc;
}

static int
h_api_upload(pn_job_t *job, const char *path, const char *src_file, const char *content_type,
             const char *idem_key, pn_job_response_t *res)
{
    char real[PATH_MAX];
    if (!src_file || !realpath(src_file, real) || !in_workdir(job, real))
        return refuse(job, res, "api_upload: source outside the job's workdir", src_file);
    if (!header_safe(content_type) || !header_safe(idem_key))
        return refuse(job, res, "api_upload: bad Content-Type or Idempotency-Key",
                      content_type ? content_type : idem_key);
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return refuse(job, res, "api_upload: not a readable regular file", src_file);
    }
    pnw_api_req_t rq = {.method = "POST",
                        .path = path,
                        .source = true,
                        .source_fd = fd,
                        .source_len = (uint64_t)st.st_size,
                        .content_type = content_type};
    int rc = call(job, &rq, idem_key, res);
    close(fd);
    return rc;
}

/* -1 when the key does not fit: a cut key could match another one. */
static int
idem_key(char *out, size_t n, pn_job_t *job, const char *key)
{
    int k = snprintf(out, n, "pn:idem:%s:%s", job->cls->c.name, key);
    return k >= 0 && (size_t)k < n ? 0 : -1;
}

static int
h_processed(pn_job_t *job, const char *key)
{
    char k[512];
    if (idem_key(k, sizeof k, job, key) != 0)
        return -1;
    if (pnw_rt.local)
        return pnw_local_processed(k);
    redisReply *r = pnw_redis_cmdf(redis_conn(), "EXISTS %s", k);
    int rc = r && r->type == REDIS_REPLY_INTEGER ? (r->integer > 0) : -1;
    if (r)
        freeReplyObject(r);
    return rc;
}

static int
h_mark_processed(pn_job_t *job, const char *key, int ttl_s)
{
    char k[512];
    if (idem_key(k, sizeof k, job, key) != 0)
        return -1;
    if (pnw_rt.local)
        return pnw_local_mark(k);
    redisReply *r = pnw_redis_cmdf(redis_conn(), "SET %s 1 EX %d", k, ttl_s > 0 ? ttl_s : 86400);
    int rc = r && r->type == REDIS_REPLY_STATUS ? 0 : -1;
    if (r)
        freeReplyObject(r);
    return rc;
}

static void
h_count(pn_job_t *job, const char *name, long delta)
{
    char k[256];
    (void)snprintf(k, sizeof k, "%s.%s", job->cls->c.name, name);
    if (pnw_rt.track)
        pnw_track_count(pnw_rt.track, k, delta);
}

static void
h_timing(pn_job_t *job, const char *name, double ms)
{
    char k[256];
    (void)snprintf(k, sizeof k, "%s.%s.ms", job->cls->c.name, name);
    if (pnw_rt.track) {
        pnw_track_count(pnw_rt.track, k, (long)ms);
        (void)snprintf(k, sizeof k, "%s.%s.count", job->cls->c.name, name);
        pnw_track_count(pnw_rt.track, k, 1);
    }
}

static const char *
h_workdir(pn_job_t *job)
{
    if (job->workdir)
        return job->workdir;
    char tmpl[4096];
    int n = snprintf(tmpl, sizeof tmpl, "%s/pn-job-%.24s-XXXXXX", pnw_rt.cfg->tmp_dir, job->jid);
    bool fits = n >= 0 && (size_t)n < sizeof tmpl;
    /* jids are ours to trust only after a check: keep the name to safe characters. */
    for (char *p = tmpl + strlen(pnw_rt.cfg->tmp_dir) + 1; fits && *p; p++)
        if (*p == '/' || *p == '.')
            *p = '_';
    if (!fits || !mkdtemp(tmpl)) {
        pnw_log(PNW_ERROR, "job", "class=%s jid=%s cannot create a working directory in %s",
                job->cls->c.name, job->jid, pnw_rt.cfg->tmp_dir);
        return NULL;
    }
    job->workdir = strdup(tmpl);
    return job->workdir;
}

static const char *
h_config(pn_job_t *job, const char *key)
{
    const char *v = pnw_rt.local && key ? pnw_local_config(key) : NULL;
    if (v)
        return v;
    return pnw_config_plugin_key(pnw_rt.cfg, job->cls->plugin->desc->name, key);
}

static double
h_remaining(pn_job_t *job)
{
    return job->deadline - pnw_now();
}

static bool
h_stopping(pn_job_t *job)
{
    (void)job;
    return pnw_rt.stopping != 0;
}

static bool
h_breaker_allow(pn_job_t *job, const char *target)
{
    (void)job;
    return pnw_breaker_allow(pnw_rt.breakers, target, pnw_now());
}

static void
h_breaker_report(pn_job_t *job, const char *target, bool ok)
{
    (void)job;
    pnw_breaker_report(pnw_rt.breakers, target, ok, pnw_now());
}

const pn_job_host_t pnw_host = {
    .abi = PN_JOB_ABI,
    .size = sizeof(pn_job_host_t),
    .log = h_log,
    .jid = h_jid,
    .job_class = h_class,
    .attempt = h_attempt,
    .fail = h_fail,
    .api = h_api,
    .processed = h_processed,
    .mark_processed = h_mark_processed,
    .count = h_count,
    .timing = h_timing,
    .workdir = h_workdir,
    .config = h_config,
    .remaining = h_remaining,
    .stopping = h_stopping,
    .breaker_allow = h_breaker_allow,
    .breaker_report = h_breaker_report,
    .api_download = h_api_download,
    .api_upload = h_api_upload,
    .api_download_head = h_api_download_head,
    .api_read_head = h_api_read_head,
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int
pnw_job_execute(const pnw_class_t *c, pnw_payload_t *p, int attempt, char *msg, size_t msglen,
                bool *api_failed)
{
    pn_job_t job = {.cls = c,
                    .jid = p->jid,
                    .attempt = attempt,
                    .msg = msg,
                    .msglen = msglen,
                    .deadline = pnw_now() + c->c.timeout_s};
    msg[0] = '\0';
    int rc = c->c.execute(&job, p->args);
    if (rc < PN_JOB_OK || rc > PN_JOB_DEAD) {
        (void)snprintf(msg, msglen, "execute returned %d, not a pn_job_result_t", rc);
        rc = PN_JOB_ERROR;
    }
    if (job.workdir) {
        if (nftw(job.workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            pnw_log(PNW_WARN, "job", "class=%s jid=%s could not remove %s", c->c.name, p->jid,
                    job.workdir);
        free(job.workdir);
    }
    *api_failed = job.api_failed;
    if (rc != PN_JOB_OK && !msg[0])
        (void)snprintf(msg, msglen, "%s returned %s without a reason", c->c.name,
                       rc == PN_JOB_DEAD ? "PN_JOB_DEAD" : "an error");
    return rc;
}
