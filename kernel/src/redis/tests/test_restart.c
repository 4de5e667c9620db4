/*
 * A restarted Redis needs no server restart: with PN_TEST_REDIS_RESTART_CMD restarting the
 * Redis at PN_TEST_REDIS_URL, calls fail fast with PN_E_UNAVAILABLE while it is down and
 * work again soon after it is back, without re-init. Its own executable: it restarts Redis.
 */
#include <CUnit/Basic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../redis_internal.h"
#include "helpers.h"

static const char *restart_cmd;

/* The server's run_id, which changes on every start; PN_OK or the call's code. */
static int
run_id(pnk_redis_target_t t, char out[64])
{
    const char *argv[] = {"INFO", "server"};
    json_t *r = NULL;
    int rc = pnk_redis_command(t, 2, argv, NULL, &r, NULL, 0);
    if (rc != PN_OK)
        return rc;
    const char *p = strstr(json_string_value(r), "run_id:");
    snprintf(out, 64, "%.40s", p ? p + 7 : "?");
    json_decref(r);
    return PN_OK;
}

static void
test_restart_recovers_without_reinit(void)
{
    char before[64], now[64];
    CU_ASSERT_EQUAL_FATAL(run_id(PNK_REDIS_CACHE, before), PN_OK);
    CU_ASSERT_EQUAL_FATAL(run_id(PNK_REDIS_QUEUE, now), PN_OK);

    pid_t child = fork();
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0) {
        execl("/bin/sh", "sh", "-c", restart_cmd, (char *)NULL);
        _exit(127);
    }
    unsigned long connects0 = pnk_redis_thread_connects();
    int failures = 0, other_codes = 0, child_status = -1;
    double t0 = th_now(), first_fail = 0, last_fail = 0, slowest_fail = 0, back = 0;
    /* Poll every 20 ms for at most 30 s: fail fast while down, then a new run_id. */
    for (int i = 0; i < 1500 && th_now() - t0 < 30.0; i++) {
        double c0 = th_now();
        int rc = run_id(PNK_REDIS_CACHE, now);
        double took = th_now() - c0;
        if (rc == PN_E_UNAVAILABLE) {
            if (!failures)
                first_fail = c0;
            last_fail = c0;
            failures++;
            if (took > slowest_fail)
                slowest_fail = took;
        } else if (rc != PN_OK) {
            other_codes++;
        } else if (strcmp(now, before) != 0) {
            back = th_now();
            break;
        }
        if (child_status < 0 && waitpid(child, &child_status, WNOHANG) != child)
            child_status = -1;
        th_sleep_ms(20);
    }
    if (child_status < 0)
        waitpid(child, &child_status, 0);
    CU_ASSERT_TRUE(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0);
    printf("\n  failures=%d first_fail_to_back=%.2fs slowest_failure=%.3fs connects=%lu\n",
           failures, back > 0 && failures ? back - first_fail : -1.0, slowest_fail,
           pnk_redis_thread_connects() - connects0);
    CU_ASSERT(back > 0); /* a new run_id: Redis really restarted and we reached it */
    if (failures == 0)
        fprintf(stderr, "Redis came back before any call failed; make "
                        "PN_TEST_REDIS_RESTART_CMD keep it down for about a second\n");
    CU_ASSERT(failures > 0);
    CU_ASSERT_EQUAL(other_codes, 0);
    CU_ASSERT(back - first_fail < 10.0);
    CU_ASSERT(slowest_fail < 0.5); /* fail fast, no waiting on a dead server */
    /* At most one connect per 200 ms while down (plus the first and the one that worked). */
    double down = last_fail - first_fail;
    CU_ASSERT(pnk_redis_thread_connects() - connects0 <= (unsigned long)(down / 0.2) + 3);
    /* The queue target reconnects too. */
    CU_ASSERT_EQUAL(run_id(PNK_REDIS_QUEUE, now), PN_OK);
    CU_ASSERT_EQUAL(pnk_redis_ping(PNK_REDIS_QUEUE), PN_OK);
    CU_ASSERT_EQUAL(pnk_cache_set("test:restart", "1", 1, 10), PN_OK);
    CU_ASSERT_EQUAL(pnk_cache_del("test:restart"), PN_OK);
}

int
main(void)
{
    if (!th_env_url())
        return 1;
    restart_cmd = getenv("PN_TEST_REDIS_RESTART_CMD");
    if (!restart_cmd || !*restart_cmd) {
        fprintf(stderr, "FAIL: PN_TEST_REDIS_RESTART_CMD is not set. It must restart the Redis at "
                        "PN_TEST_REDIS_URL (same port), e.g. 'redis-cli -p 56999 shutdown nosave; "
                        "sleep 1; redis-server --port 56999 ... --daemonize yes'.\n");
        return 1;
    }
    if (th_init() != 0)
        return 1;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("redis_restart", NULL, NULL);
    CU_add_test(s, "recovers without re-init", test_restart_recovers_without_reinit);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    pnk_redis_shutdown();
    return failed || ran == 0 ? 1 : 0;
}
