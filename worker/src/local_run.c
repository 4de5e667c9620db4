/* The --run command: resolve the job class, check the files and arguments, execute the job once
 * per file (in a limited child for isolated classes, as in production) against the local
 * server (local.c), and turn each execution's journal into result.json. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "payload.h"
#include "runtime.h"
#include "wlog.h"

#define ME "powernode-worker --run"

/* The part after the last "::". */
static const char *
short_of(const char *name)
{
    const char *s = name, *p;
    while ((p = strstr(s, "::")))
        s = p + 2;
    return s;
}

/* A class by exact name, else by case-insensitive name or short name (the part after "::"),
 * else by a unique case-insensitive prefix of the short name ("thumbnail" for
 * ThumbnailGenerationJob). NULL with the reason in err. */
static const pnw_class_t *
resolve(const char *want, char *err, size_t errlen)
{
    const pnw_registry_t *r = &pnw_rt.reg;
    const pnw_class_t *c = pnw_plugins_find(r, want);
    if (c)
        return c;
    for (size_t i = 0; i < r->nclasses; i++)
        if (!strcasecmp(r->classes[i].c.name, want) ||
            !strcasecmp(short_of(r->classes[i].c.name), want))
            return &r->classes[i];
    const pnw_class_t *hit = NULL;
    char names[2048] = "";
    size_t nhits = 0, len = strlen(want);
    for (size_t i = 0; i < r->nclasses; i++)
        if (len && !strncasecmp(short_of(r->classes[i].c.name), want, len)) {
            hit = &r->classes[i];
            nhits++;
            size_t used = strlen(names);
            (void)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
                           r->classes[i].c.name);
        }
    if (nhits == 1)
        return hit;
    if (nhits > 1) {
        (void)snprintf(err, errlen, "job %s is ambiguous: %s", want, names);
        return NULL;
    }
    for (size_t i = 0; i < r->nclasses; i++) {
        size_t used = strlen(names);
        (void)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
                       r->classes[i].c.name);
    }
    (void)snprintf(err, errlen, "unknown job %s; the loaded job plugins provide: %s", want,
                   r->nclasses ? names : "(none)");
    return NULL;
}

/* The job's arguments: --args, else [the local processing job id] for classes whose first
 * argument is a required string (the processing-job convention), else []. */
static json_t *
job_args(const pnw_local_opts_t *o, const pnw_class_t *c, char *err, size_t errlen)
{
    if (o->args_json) {
        json_error_t je;
        json_t *a = json_loads(o->args_json, 0, &je);
        if (!json_is_array(a)) {
            (void)snprintf(err, errlen, "--args must be a JSON array: %s",
                           a ? "not an array" : je.text);
            json_decref(a);
            return NULL;
        }
        return a;
    }
    return c->c.args && c->c.args[0] == 's' ? json_pack("[s]", PNW_LOCAL_JOB_ID) : json_array();
}

static int
make_dir(const char *d, char *err, size_t errlen)
{
    struct stat st;
    if (mkdir(d, 0755) != 0 && errno != EEXIST) {
        (void)snprintf(err, errlen, "--out %s: %s", d, strerror(errno));
        return -1;
    }
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
        (void)snprintf(err, errlen, "--out %s: not a directory", d);
        return -1;
    }
    return 0;
}

static const char *const outcome_names[] = {"ok", "error", "api_error", "dead"};

/* The records of a child's journal file (a torn last line, from a crash, is skipped). */
static json_t *
journal_file(const char *path)
{
    json_t *recs = json_array();
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) {
        json_t *rec = json_loads(line, 0, NULL);
        if (rec)
            json_array_append_new(recs, rec);
    }
    free(line);
    if (f)
        (void)fclose(f);
    return recs;
}

/* The journal's records into result (status transitions, merged metadata, derivatives,
 * calls). Consumes recs. */
static void
read_journal(json_t *recs, json_t *result)
{
    json_t *st = json_array(), *meta = json_null(), *der = json_array(), *calls = json_array();
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec)
    {
        const char *t = json_string_value(json_object_get(rec, "t"));
        json_t *body = json_object_get(rec, "body");
        if (!t) {
        } else if (!strcmp(t, "status")) {
            json_array_append(st, body);
        } else if (!strcmp(t, "metadata") && json_is_object(body)) {
            if (json_is_null(meta)) {
                json_decref(meta);
                meta = json_object();
            }
            json_object_update(meta, body);
        } else if (!strcmp(t, "derivative")) {
            json_object_del(rec, "t");
            json_array_append(der, rec);
        } else if (!strcmp(t, "call")) {
            json_object_del(rec, "t");
            json_array_append(calls, rec);
        }
    }
    json_decref(recs);
    json_object_set_new(result, "status_transitions", st);
    json_object_set_new(result, "metadata_patch", meta);
    json_object_set_new(result, "derivatives", der);
    json_object_set_new(result, "api_calls", calls);
}

static char *
payload_of(const pnw_class_t *c, const json_t *args, const char *jid)
{
    double now = pnw_now();
    json_t *p = json_pack("{s:s, s:O, s:s, s:s, s:b, s:f, s:f}", "class", c->c.name, "args", args,
                          "jid", jid, "queue", c->c.queue ? c->c.queue : "default", "retry", 0,
                          "created_at", now, "enqueued_at", now);
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    return s;
}

/* The arguments an isolated child needs to serve the same local run (free with free_argv). */
static char **
child_argv(const pnw_local_opts_t *o, const char *file, const char *out)
{
    size_t n = 0, max = 6 + 2 * (o->nplugins + o->nsets + o->nparams) + 1;
    char **v = calloc(max, sizeof *v);
    bool ok = v != NULL;
#define ADD(s) (ok = ok && (v[n++] = strdup(s)) != NULL)
    ADD("--file"), ADD(file), ADD("--out"), ADD(out);
    for (size_t i = 0; i < o->nplugins; i++)
        ADD("--plugin"), ADD(o->plugins[i]);
    for (size_t i = 0; i < o->nsets; i++)
        ADD("--set"), ADD(o->sets[i]);
    for (size_t i = 0; i < o->nparams; i++)
        ADD("--arg"), ADD(o->params[i]);
    if (o->sha256sums)
        ADD("--sha256sums"), ADD(o->sha256sums);
#undef ADD
    if (ok)
        return v;
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
    return NULL;
}

static void
free_argv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* One execution on one file; writes out/result.json. 0 ok, 1 the job failed, 2 set-up. */
static int
run_one(const pnw_local_opts_t *o, const pnw_class_t *c, const json_t *args, const char *file,
        const char *out, int n)
{
    char err[1024], jpath[PATH_MAX + 64], rpath[PATH_MAX + 64], jid[64], msg[1024] = "";
    int nj = snprintf(jpath, sizeof jpath, "%s/%s", out, PNW_LOCAL_JOURNAL);
    int nr = snprintf(rpath, sizeof rpath, "%s/result.json", out);
    if (nj < 0 || (size_t)nj >= sizeof jpath || nr < 0 || (size_t)nr >= sizeof rpath) {
        (void)fprintf(stderr, ME ": %s: path too long\n", out);
        return 2;
    }
    (void)snprintf(jid, sizeof jid, "local-%d-%d", (int)getpid(), n);
    bool isolated = c->c.isolated && !o->in_process, api = false;
    /* Only a child journals to a file (its record survives its crash), appending to one that
     * starts empty; this process keeps its own journal in memory. */
    if (isolated) {
        int fd = open(jpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            (void)fprintf(stderr, ME ": %s: %s\n", jpath, strerror(errno));
            return 2;
        }
        close(fd);
    }
    json_t *recs = NULL;
    char *payload = payload_of(c, args, jid);
    int rc;
    double t0 = pnw_now();
    if (!payload) {
        (void)fprintf(stderr, ME ": cannot encode the job\n");
        return 2;
    }
    if (isolated) {
        char **extra = child_argv(o, file, out);
        pnw_rt.child_argv = extra;
        rc = extra ? pnw_isolate_run(c, payload, strlen(payload), 1, msg, sizeof msg, &api)
                   : PN_JOB_ERROR;
        pnw_rt.child_argv = NULL;
        free_argv(extra);
    } else {
        pnw_payload_t p;
        if (pnw_payload_decode(payload, strlen(payload), (size_t)pnw_rt.cfg->max_payload,
                               pnw_rt.cfg->max_depth, &p, err, sizeof err) != 0 ||
            pnw_local_begin(c->c.name, file, out, o, true, err, sizeof err) != 0) {
            (void)fprintf(stderr, ME ": %s\n", err);
            free(payload);
            return 2;
        }
        rc = pnw_job_execute(c, &p, 1, msg, sizeof msg, &api);
        recs = pnw_local_journal_take();
        pnw_local_end();
        pnw_payload_clear(&p);
    }
    free(payload);
    double ms = (pnw_now() - t0) * 1000;
    json_t *res = json_pack("{s:s, s:s, s:s, s:O, s:b, s:s, s:s, s:b, s:f}", "job_class", c->c.name,
                            "plugin", c->plugin->desc->name, "file", file, "args", args, "isolated",
                            isolated, "outcome", outcome_names[rc], "message", msg, "api_error",
                            api, "duration_ms", ms);
    if (!res) /* a reason that is not UTF-8 */
        res = json_pack("{s:s, s:s, s:s}", "job_class", c->c.name, "outcome", outcome_names[rc],
                        "message", "(reason not UTF-8)");
    if (isolated) {
        recs = journal_file(jpath);
        unlink(jpath);
    }
    read_journal(recs ? recs : json_array(), res);
    if (json_dump_file(res, rpath, JSON_INDENT(2)) != 0) {
        (void)fprintf(stderr, ME ": cannot write %s\n", rpath);
        json_decref(res);
        return 2;
    }
    json_decref(res);
    if (rc != PN_JOB_OK) {
        (void)fprintf(stderr, ME ": %s on %s failed (%s): %s\n", c->c.name, file, outcome_names[rc],
                      msg);
        return 1;
    }
    printf("%s %s: ok in %.1f ms -> %s\n", c->c.name, file, ms, rpath);
    return 0;
}

int
pnw_local_run(const pnw_local_opts_t *o)
{
    char err[4096];
    const pnw_class_t *c = resolve(o->job, err, sizeof err);
    if (!c) {
        (void)fprintf(stderr, ME ": %s\n", err);
        return 2;
    }
    json_t *args = job_args(o, c, err, sizeof err);
    if (!args) {
        (void)fprintf(stderr, ME ": %s\n", err);
        return 2;
    }
    if (pnw_args_check(c->c.args, args, err, sizeof err) != 0) {
        (void)fprintf(stderr, ME ": %s: %s\n", c->c.name, err);
        json_decref(args);
        return 2;
    }
    for (size_t i = 0; i < o->nparams; i++) {
        char *k = NULL;
        json_t *v = pnw_local_param(o->params[i], &k);
        free(k);
        if (!v) {
            (void)fprintf(stderr, ME ": --arg %s: expected key=value\n", o->params[i]);
            json_decref(args);
            return 2;
        }
        json_decref(v);
    }
    if (make_dir(o->out, err, sizeof err) != 0) {
        (void)fprintf(stderr, ME ": %s\n", err);
        json_decref(args);
        return 2;
    }
    /* Absolute paths: an isolated child resolves them the same way. */
    char **files = calloc(o->nfiles, sizeof *files), **outs = calloc(o->nfiles, sizeof *outs);
    char *rout = realpath(o->out, NULL);
    int rc = rout ? 0 : 2;
    if (!rout)
        (void)fprintf(stderr, ME ": --out %s: %s\n", o->out, strerror(errno));
    for (size_t i = 0; files && outs && i < o->nfiles && rc == 0; i++) {
        struct stat st;
        char tmp[PATH_MAX], dir[PATH_MAX];
        files[i] = realpath(o->files[i], NULL);
        if (!files[i] || stat(files[i], &st) != 0 || !S_ISREG(st.st_mode) ||
            access(files[i], R_OK) != 0) {
            (void)fprintf(stderr, ME ": --file %s: %s\n", o->files[i],
                          files[i] ? "not a readable regular file" : strerror(errno));
            rc = 2;
            break;
        }
        /* One file: DIR itself; several: DIR/<file name> each. */
        (void)snprintf(tmp, sizeof tmp, "%s", files[i]); /* realpath(): shorter than PATH_MAX */
        int nd = snprintf(dir, sizeof dir, "%s/%s", rout, basename(tmp));
        if (nd < 0 || (size_t)nd >= sizeof dir) {
            (void)fprintf(stderr, ME ": --out %s: path too long\n", o->out);
            rc = 2;
            break;
        }
        for (size_t j = 0; o->nfiles > 1 && j < i; j++)
            if (!strcmp(outs[j], dir)) {
                (void)fprintf(stderr, ME ": two files named %s: give them separate runs\n",
                              basename(tmp));
                rc = 2;
            }
        outs[i] = strdup(o->nfiles > 1 ? dir : rout);
        if (rc == 0 && make_dir(outs[i], err, sizeof err) != 0) {
            (void)fprintf(stderr, ME ": %s\n", err);
            rc = 2;
        }
    }
    if (!files || !outs)
        rc = 2;
    for (size_t i = 0; rc != 2 && i < o->nfiles; i++) {
        int one = run_one(o, c, args, files[i], outs[i], (int)i + 1);
        rc = one > rc ? one : rc;
    }
    for (size_t i = 0; files && outs && i < o->nfiles; i++)
        free(files[i]), free(outs[i]);
    free(files), free(outs), free(rout);
    json_decref(args);
    return rc;
}
