/* Isolated jobs: each attempt runs in a fresh child (this binary, --exec-job) that limits
 * its own CPU time and address space before executing; the parent enforces wall-clock time
 * and turns a crash or a limit into a failed attempt with a clear reason. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "payload.h"
#include "runtime.h"
#include "wlog.h"

/* The result line, with the counters the job reported; a line that would not fit is sent
 * without its counters (and the child says so) rather than cut. */
#define MAX_RESULT 32768

/* Write all of buf; the child may die before reading (EPIPE, SIGPIPE is ignored). */
static void
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

int
pnw_isolate_run(const pnw_class_t *c, const char *payload, size_t len, int attempt, char *msg,
                size_t msglen, bool *api_failed)
{
    int in[2], out[2];
    *api_failed = false;
    if (pipe2(in, O_CLOEXEC) != 0) {
        (void)snprintf(msg, msglen, "isolation: pipe: %s", strerror(errno));
        return PN_JOB_ERROR;
    }
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]), close(in[1]);
        (void)snprintf(msg, msglen, "isolation: pipe: %s", strerror(errno));
        return PN_JOB_ERROR;
    }
    char att[16], cls[256], opt_exec[] = "--exec-job", opt_att[] = "--attempt",
                            opt_cfg[] = "--config";
    (void)snprintf(att, sizeof att, "%d", attempt);
    (void)snprintf(cls, sizeof cls, "%s", c->c.name);
    size_t nextra = 0;
    while (pnw_rt.child_argv && pnw_rt.child_argv[nextra])
        nextra++;
    char **argv = calloc(8 + nextra, sizeof *argv);
    if (!argv) {
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        (void)snprintf(msg, msglen, "isolation: out of memory");
        return PN_JOB_ERROR;
    }
    argv[0] = pnw_rt.self_exe, argv[1] = opt_exec, argv[2] = cls, argv[3] = opt_att;
    argv[4] = att;
    int an = 5;
    if (pnw_rt.cfg->path) {
        argv[an++] = opt_cfg;
        argv[an++] = pnw_rt.cfg->path;
    }
    for (size_t i = 0; i < nextra; i++)
        argv[an++] = pnw_rt.child_argv[i];
    argv[an] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. */
        dup2(in[0], 0);
        dup2(out[1], 1);
        execv(pnw_rt.self_exe, argv);
        _exit(127);
    }
    free(argv);
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        close(in[1]), close(out[0]);
        (void)snprintf(msg, msglen, "isolation: fork: %s", strerror(errno));
        return PN_JOB_ERROR;
    }
    write_all(in[1], payload, len);
    close(in[1]);

    char res[MAX_RESULT];
    size_t got = 0;
    double deadline = pnw_now() + c->c.timeout_s;
    bool timed_out = false;
    for (;;) {
        int left = (int)((deadline - pnw_now()) * 1000);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = {out[0], POLLIN, 0};
        int pr = poll(&pfd, 1, left < 200 ? left : 200);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        ssize_t n = read(out[0], res + got, sizeof res - 1 - got);
        if (n <= 0)
            break; /* EOF: the child is done or dead */
        got += (size_t)n;
        if (got >= sizeof res - 1)
            break;
    }
    res[got] = '\0';
    close(out[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int st = 0;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    if (timed_out) {
        (void)snprintf(msg, msglen, "killed after the wall-clock limit of %d s (isolated child)",
                       c->c.timeout_s);
        return PN_JOB_ERROR;
    }
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        if (sig == SIGXCPU || (sig == SIGKILL && cpu >= c->c.cpu_limit_s))
            (void)snprintf(msg, msglen, "exceeded the CPU limit of %d s (isolated child)",
                           c->c.cpu_limit_s);
        else
            (void)snprintf(msg, msglen, "isolated child crashed with signal %d (%s)", sig,
                           strsignal(sig));
        return PN_JOB_ERROR;
    }
    json_t *r = json_loads(res, 0, NULL);
    json_t *jr = json_object_get(r, "result");
    if (!json_is_integer(jr)) {
        /* Most often an allocation failed at the address-space limit inside a library that
         * exits instead of returning NULL (a sanitizer runtime does). */
        (void)snprintf(msg, msglen,
                       "isolated child exited with status %d without a result (did it reach the "
                       "memory limit of %d MiB?)",
                       WIFEXITED(st) ? WEXITSTATUS(st) : -1, c->c.memory_limit_mb);
        json_decref(r);
        return PN_JOB_ERROR;
    }
    int rc = (int)json_integer_value(jr);
    const char *m = json_string_value(json_object_get(r, "message"));
    (void)snprintf(msg, msglen, "%s", m ? m : "");
    *api_failed = json_is_true(json_object_get(r, "api_failed"));
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(r, "counters"), name, v)
    {
        if (json_is_integer(v) && pnw_rt.track)
            pnw_track_count(pnw_rt.track, name, (long)json_integer_value(v));
    }
    json_decref(r);
    return rc >= PN_JOB_OK && rc <= PN_JOB_DEAD ? rc : PN_JOB_ERROR;
}

/* Current address space in bytes, from /proc/self/statm (pages). */
static size_t
vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        (void)fclose(f);
    }
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

int
pnw_isolate_child(const char *job_class, int attempt)
{
    const pnw_class_t *c = pnw_plugins_find(&pnw_rt.reg, job_class);
    if (!c) {
        pnw_log(PNW_ERROR, "isolate", "class %s is not loaded in the child", job_class);
        return 2;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf && (n = read(0, buf + len, cap - len)) > 0) {
        len += (size_t)n;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf)
        return 3;
    pnw_payload_t p;
    char why[512];
    if (pnw_payload_decode(buf, len, (size_t)pnw_rt.cfg->max_payload, pnw_rt.cfg->max_depth, &p,
                           why, sizeof why) != 0) {
        free(buf);
        printf("{\"result\":3,\"message\":\"bad payload in child\"}\n");
        return 0;
    }
    free(buf);
    /* Limits on ourselves, measured from what this process already maps (a sanitizer build
     * maps terabytes of shadow memory, so an absolute RLIMIT_AS would stop it at once). */
    struct rlimit cpu = {(rlim_t)c->c.cpu_limit_s, (rlim_t)c->c.cpu_limit_s + 1};
    struct rlimit as;
    as.rlim_cur = as.rlim_max = (rlim_t)vm_size() + (rlim_t)c->c.memory_limit_mb * 1024 * 1024;
    if (setrlimit(RLIMIT_CPU, &cpu) != 0 || setrlimit(RLIMIT_AS, &as) != 0)
        pnw_log(PNW_WARN, "isolate", "setrlimit failed: %s", strerror(errno));
    char msg[1024] = "";
    bool api = false;
    int rc = pnw_job_execute(c, &p, attempt, msg, sizeof msg, &api);
    pnw_payload_clear(&p);
    json_t *r = json_pack("{s:i, s:s, s:b}", "result", rc, "message", msg, "api_failed", api);
    /* Counters and timings the job reported (pn_job_host_t.count/timing) live in this
     * process; the parent publishes them with its heartbeat. */
    json_t *ctr = pnw_rt.track ? pnw_track_take_counters(pnw_rt.track) : NULL;
    if (r && ctr && json_object_size(ctr))
        json_object_set(r, "counters", ctr);
    json_decref(ctr);
    char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
    if (s && strlen(s) + 1 >= MAX_RESULT) {
        pnw_log(PNW_WARN, "isolate", "class=%s: counters dropped, the result would be %zu bytes",
                job_class, strlen(s));
        free(s);
        json_object_del(r, "counters");
        s = json_dumps(r, JSON_COMPACT);
    }
    if (!s) /* a message that is not UTF-8 */
        printf("{\"result\":%d,\"message\":\"(reason not UTF-8)\"}\n", rc);
    else
        printf("%s\n", s);
    (void)fflush(stdout);
    free(s);
    json_decref(r);
    return 0;
}
