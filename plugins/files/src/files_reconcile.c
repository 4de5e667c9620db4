/*
 * The files plugin's job reconciler (plugins/queues, jobs_reconciler.h): processing job rows
 * still pending in PostgreSQL whose push Redis no longer holds are pushed again.
 */
#include <powernode/jobs_reconciler.h>
#include <stdio.h>

#include "files.h"

#define DB pn_host_

/* Rows looked at per pass; the next pass takes the rest (oldest first). */
#define RECONCILE_BATCH "500"

static int
reconcile(pn_req_t *req, const pn_jobs_reconcile_t *rc, int *pushed)
{
    char age[24];
    pn_rows_t *rows;
    int err;

    *pushed = 0;
    if (rc == NULL || rc->size < offsetof(pn_jobs_reconcile_t, held) + sizeof rc->held)
        return pn_fail(req, PN_E_INTERNAL, "reconciler: queues plugin too old");
    (void)snprintf(age, sizeof age, "%lld", (long long)(rc->min_age_s > 0 ? rc->min_age_s : 0));
    /* Every account's rows: a service request has none of its own (see the contract). */
    err = pn_db_query(req, &rows,
                      "SELECT id, job_class FROM file_processing_jobs WHERE status = 'pending' "
                      "AND COALESCE(enqueued_at, created_at) < now() - make_interval(secs => "
                      "$1::bigint) ORDER BY created_at LIMIT " RECONCILE_BATCH,
                      age);
    if (err != PN_OK)
        return err;
    for (int i = 0; i < pn_rows_count(rows); i++) {
        const char *id = pn_rows_value(rows, i, 0), *cls = pn_rows_value(rows, i, 1);
        bool held = true;
        if ((err = rc->held(rc, req, cls, id, &held)) != PN_OK)
            return err; /* never guess "not held" */
        if (held)
            continue;
        if ((err = DB->job_enqueue(req, cls, FILES_QUEUE, json_pack("[s]", id), 0, NULL)) != PN_OK)
            return err;
        (*pushed)++;
        if ((err = pn_db_query(req, NULL,
                               "UPDATE file_processing_jobs SET enqueued_at = now() "
                               "WHERE id = $1 AND status = 'pending'",
                               id)) != PN_OK)
            return err;
    }
    if (*pushed)
        PN_INFO("reconciler pushed %d processing job(s) again", *pushed);
    return PN_OK;
}

const pn_jobs_reconciler_t files_reconciler = {
    .size = sizeof(pn_jobs_reconciler_t),
    .reconcile = reconcile,
};
