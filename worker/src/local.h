/*
 * Local mode (powernode-worker --run): one job on a local file with no Redis, no server and no
 * network. The job's API calls are answered here for one made-up processing job and its file
 * (content = the local file), derivative uploads land in the output directory, and status,
 * metadata and derivative calls are journalled so the runner can write result.json. Any other
 * call is refused with a clear reason.
 */
#ifndef PNW_LOCAL_H
#define PNW_LOCAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "plugins.h"

/* The ids the local server knows: the processing job (default first argument) and its file. */
#define PNW_LOCAL_JOB_ID "10ca1000-0000-4000-8000-000000000001"
#define PNW_LOCAL_FILE_ID "10ca1000-0000-4000-8000-000000000002"
/* Journal of one execution, in the output directory; removed once result.json is written. */
#define PNW_LOCAL_JOURNAL ".pn-run-journal.jsonl"

/* The command line of --run (also what an isolated child of it gets). Arrays point into argv. */
typedef struct pnw_local_opts {
    const char *job; /* --run: class name or short name */
    const char **files;
    size_t nfiles;
    const char *out;
    const char **plugins;
    size_t nplugins;
    const char **sets; /* --set key=value: job_plugins.<plugin>.<key> for this run */
    size_t nsets;
    const char **params; /* --arg key=value: the processing job's job_parameters */
    size_t nparams;
    const char *args_json; /* --args: the job's argument array */
    bool in_process;       /* --in-process: isolated classes run here, without limits */
    /* --sha256sums FILE: the files' SHA-256 as the upload computed them (sha256sum's format);
     * the local server's file record carries them, as the real one does after an upload. A
     * --file not listed is hashed by the local server when a job first asks for its record. */
    const char *sha256sums;
} pnw_local_opts_t;

/* Start serving one execution of job_class on file, writing into out (which exists). 0, or -1
 * with err. Called by the process that runs the job (the runner or an isolated child). An
 * isolated child journals to out/PNW_LOCAL_JOURNAL line by line (what it did survives its
 * crash); the runner itself (in_memory) keeps the records for pnw_local_journal_take. */
int pnw_local_begin(const char *job_class, const char *file, const char *out,
                    const pnw_local_opts_t *o, bool in_memory, char *err, size_t errlen);
/* The records of an in-memory journal (a JSON array, the caller's), or NULL. */
json_t *pnw_local_journal_take(void);
void pnw_local_end(void);
/* One API call of the job. 0 with *status and *reply when served (any status), -1 with why
 * when refused (no server in local mode) or the local transfer failed. */
int pnw_local_call(const pnw_api_req_t *rq, long *status, json_t **reply, char *why, size_t whylen);
/* A --set value for key, or NULL. */
const char *pnw_local_config(const char *key);
/* Idempotency marks, kept in memory for the run. */
int pnw_local_processed(const char *key);
int pnw_local_mark(const char *key);

/* A job_parameters value from "k=v": JSON when v parses as JSON, else the string. NULL when
 * there is no '=', v is neither JSON nor UTF-8, or memory ran out (then *key is NULL).
 * *key is malloc'd. */
json_t *pnw_local_param(const char *kv, char **key);

/* The --run command: 0 all succeeded, 1 a job failed, 2 usage or set-up error. */
int pnw_local_run(const pnw_local_opts_t *o);

#endif
