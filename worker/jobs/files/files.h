/* The files job plugin internals: one execute function per job class. */
#ifndef FJ_FILES_H
#define FJ_FILES_H

#include <powernode/job.h>

int fj_init(const pn_job_host_t *host);
void fj_fini(void);
int fj_thumbnail(pn_job_t *job, const json_t *args);
int fj_metadata(pn_job_t *job, const json_t *args);
int fj_video(pn_job_t *job, const json_t *args);
int fj_audio(pn_job_t *job, const json_t *args);

#endif
