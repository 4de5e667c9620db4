/* The maintenance job plugin: the descriptor. Jobs the platform needs (reconciler trigger),
 * the jobs tests and benchmarks use (no-op, one API call, record a jid idempotently), and
 * test hooks that misbehave on purpose (enabled only with job_plugins.maintenance.test_hooks). */
#include "maintenance.h"

static const pn_job_class_t classes[] = {
    {.name = "Maintenance::Noop", .queue = "default", .execute = mnt_noop},
    {.name = "Maintenance::ApiCall", .queue = "default", .args = "?s*", .execute = mnt_api_call},
    {.name = "Maintenance::RecordJid", .queue = "default", .args = "?*i", .execute = mnt_record},
    {.name = "Maintenance::Reconcile",
     .queue = "maintenance",
     .retry = PN_JOB_NO_RETRY,
     .timeout_s = 120,
     .execute = mnt_reconcile},
    {.name = "Maintenance::Typed", .args = "si", .execute = mnt_noop},
    {.name = "Maintenance::Fail", .args = "?s", .execute = mnt_fail},
    {.name = "Maintenance::Sleep", .args = "n?*", .execute = mnt_sleep},
    {.name = "Maintenance::Abort", .execute = mnt_abort},
    {.name = "Maintenance::AbortIsolated", .isolated = true, .timeout_s = 20, .execute = mnt_abort},
    {.name = "Maintenance::HogIsolated",
     .isolated = true,
     .timeout_s = 4,
     .cpu_limit_s = 1,
     .memory_limit_mb = 64,
     .args = "s",
     .execute = mnt_hog},
    {.name = "Maintenance::Workdir", .execute = mnt_workdir},
    {.name = "Maintenance::FetchHead", .args = "si", .execute = mnt_fetch_head},
    {.name = "Maintenance::ReadHead", .args = "si", .execute = mnt_read_head},
};

PN_JOB_PLUGIN(.name = "maintenance", .version = "0.1.0", .classes = classes,
              .nclasses = sizeof classes / sizeof classes[0], .init = mnt_init,
              .summary = "no-op, API call, jid recording, reconciler trigger and test hooks");
