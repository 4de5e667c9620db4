/*
 * hello-job: the smallest useful job plugin, built out of tree with `pkg-config powernode-job`
 * only. Example::Hello takes a name, writes "Hello, <name>" into its working directory and
 * counts greetings; it marks each jid processed so a re-run (at-least-once delivery) is a
 * no-op.
 */
#include <stdio.h>

#include <powernode/job.h>

static int
hello(pn_job_t *job, const json_t *args)
{
    const char *name = json_string_value(json_array_get(args, 0));
    if (pn_job_processed(job, pn_job_jid(job)) == 1)
        return PN_JOB_OK; /* already done by an earlier delivery */
    const char *dir = pn_job_workdir(job);
    if (!dir) {
        pn_job_fail(job, "no working directory");
        return PN_JOB_ERROR;
    }
    char path[4096];
    if (snprintf(path, sizeof path, "%s/greeting.txt", dir) >= (int)sizeof path) {
        pn_job_fail(job, "working directory path too long");
        return PN_JOB_ERROR;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        pn_job_fail(job, "cannot write %s", path);
        return PN_JOB_ERROR;
    }
    bool ok = fprintf(f, "Hello, %s\n", name) > 0; /* name: the worker checked args "s" */
    if (fclose(f) != 0 || !ok) {
        pn_job_fail(job, "cannot write %s", path);
        return PN_JOB_ERROR;
    }
    pn_job_log(job, PN_JOB_LOG_INFO, "said hello to %s", name);
    pn_job_count(job, "greetings", 1);
    if (pn_job_mark_processed(job, pn_job_jid(job), 86400) != 0) {
        pn_job_fail(job, "cannot record the jid as processed");
        return PN_JOB_ERROR;
    }
    return PN_JOB_OK;
}

static const pn_job_class_t classes[] = {
    {.name = "Example::Hello", .queue = "default", .args = "s", .execute = hello},
};

PN_JOB_PLUGIN(.name = "hello_job", .version = "1.0.0", .classes = classes,
              .nclasses = sizeof classes / sizeof classes[0],
              .summary = "says hello; the out-of-tree example");
