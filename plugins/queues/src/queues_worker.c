/* The server routes the worker calls with its service token: ping, and job results recorded
 * once per jid (jobs run at least once, so the row is the idempotent side effect). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queues.h"

int
q_worker_ping(pn_req_t *req)
{
    return pn_reply_ok(req, json_pack("{s:b, s:f}", "pong", 1, "time", q_now()));
}

int
q_worker_job_results(pn_req_t *req)
{
    json_t *body = pn_req_json(req);
    const char *jid = json_string_value(json_object_get(body, "jid"));
    if (!q_jid_ok(jid)) {
        pn_fail_field(req, "jid", "must be 24 lower-case hex digits");
        return pn_fail(req, PN_E_INVALID, "bad jid");
    }
    json_t *ref = json_object_get(body, "ref");
    char *ref_text = ref ? json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    const char *ref_r = ref_text ? pn_req_printf(req, "%s", ref_text) : NULL;
    free(ref_text);
    const char *key = pn_req_header(req, "Idempotency-Key");
    if (key && strlen(key) > 200)
        key = NULL;
    pn_rows_t *rows;
    int rc =
        pn_db_query(req, &rows,
                    "INSERT INTO queues_job_results (jid, ref, idempotency_key)"
                    " VALUES ($1, $2::jsonb, $3)"
                    " ON CONFLICT (jid) DO UPDATE SET reports = queues_job_results.reports + 1,"
                    "   updated_at = now()"
                    " RETURNING (xmax = 0) AS inserted, reports",
                    jid, ref_r, key);
    if (rc != PN_OK)
        return rc;
    const char *ins = pn_rows_value(rows, 0, 0);
    bool first = ins && !strcmp(ins, "t");
    return pn_host_->reply_json(req, first ? 201 : 200,
                                json_pack("{s:s, s:b, s:I}", "jid", jid, "duplicate", !first,
                                          "reports", (json_int_t)atoll(pn_rows_value(rows, 0, 1))),
                                NULL);
}
