/* Maintenance job plugin internals: one execute function per job class. */
#ifndef MNT_MAINTENANCE_H
#define MNT_MAINTENANCE_H

#include <powernode/job.h>

int mnt_init(const pn_job_host_t *host);
int mnt_noop(pn_job_t *job, const json_t *args);
int mnt_api_call(pn_job_t *job, const json_t *args);
int mnt_record(pn_job_t *job, const json_t *args);
int mnt_reconcile(pn_job_t *job, const json_t *args);
int mnt_fail(pn_job_t *job, const json_t *args);
int mnt_sleep(pn_job_t *job, const json_t *args);
int mnt_abort(pn_job_t *job, const json_t *args);
int mnt_hog(pn_job_t *job, const json_t *args);
int mnt_workdir(pn_job_t *job, const json_t *args);
int mnt_fetch_head(pn_job_t *job, const json_t *args);
int mnt_read_head(pn_job_t *job, const json_t *args);

#endif
