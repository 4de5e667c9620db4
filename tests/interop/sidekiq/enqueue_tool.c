/*
 * Interop helper: enqueues jobs with pnk_job_enqueue for real Sidekiq to run (see run.sh).
 * Usage: pn_sidekiq_enqueue <redis-url> <queue> <class> <count>; prints one jid per line.
 * The queue database is the URL's server, database 1; the last job is scheduled 1 s ahead.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "redis.h"

int
main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s <redis-url> <queue> <class> <count>\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[4]);
    if (n < 1 || n > 10000) {
        fprintf(stderr, "count must be 1-10000\n");
        return 2;
    }
    char err[256] = "";
    pnk_redis_config_t cfg = {.url = argv[1], .queue_url = NULL, .timeout = 2.0};
    if (pnk_redis_init(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "init: %s\n", err);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        bool scheduled = i == n - 1;
        double at = scheduled ? (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + 1.0 : 0;
        /* Both retry forms: Sidekiq's default (true) and an explicit count. */
        int retry = i % 2 ? 2 : -1;
        json_t *args =
            json_pack("[iss{ss}]", i, scheduled ? "scheduled" : "now", "ünïcode \"q\"", "k", "v");
        char jid[25];
        if (pnk_job_enqueue(argv[3], argv[2], args, at, retry, jid, err, sizeof err) != PN_OK) {
            fprintf(stderr, "enqueue %d: %s\n", i, err);
            rc = 1;
        } else {
            printf("%s\n", jid);
        }
    }
    pnk_redis_shutdown();
    return rc;
}
