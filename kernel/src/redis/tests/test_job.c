/* Job enqueue: Sidekiq's payload read back from the queue list and the schedule zset. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../redis.h"
#include "helpers.h"

void register_job_tests(void);

#define Q "pn_test_q"

static json_t *
q(int argc, const char *const *argv)
{
    json_t *r = NULL;
    char err[256] = "";
    if (pnk_redis_command(PNK_REDIS_QUEUE, argc, argv, NULL, &r, err, sizeof err) != PN_OK)
        fprintf(stderr, "%s: %s\n", argv[0], err);
    return r;
}

static double
epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
is_jid(const char *s)
{
    if (!s || strlen(s) != 24)
        return false;
    for (int i = 0; i < 24; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void
cleanup(void)
{
    json_decref(q(2, (const char *[]){"DEL", "queue:" Q}));
    json_decref(q(3, (const char *[]){"SREM", "queues", Q}));
}

static void
test_job_enqueue_now(void)
{
    cleanup();
    char jid[25] = "", err[256] = "";
    double before = epoch();
    json_t *args = json_pack("[is{ss}]", 5, "bob", "k", "v");
    CU_ASSERT_EQUAL_FATAL(pnk_job_enqueue("Pn::TestJob", Q, args, 0, -1, jid, err, sizeof err),
                          PN_OK);
    CU_ASSERT_TRUE(is_jid(jid));
    json_t *list = q(4, (const char *[]){"LRANGE", "queue:" Q, "0", "-1"});
    CU_ASSERT_EQUAL_FATAL(json_array_size(list), 1);
    const char *raw = json_string_value(json_array_get(list, 0));
    /* Sidekiq's key order, compact. */
    CU_ASSERT_EQUAL(strncmp(raw,
                            "{\"retry\":true,\"queue\":\"" Q "\",\"class\":\"Pn::TestJob\","
                            "\"args\":[5,\"bob\",{\"k\":\"v\"}],\"jid\":\"",
                            strlen("{\"retry\":true,\"queue\":\"" Q "\",\"class\":\"Pn::TestJob\","
                                   "\"args\":[5,\"bob\",{\"k\":\"v\"}],\"jid\":\"")),
                    0);
    json_t *p = json_loads(raw, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(json_object_size(p), 7);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "jid")), jid);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "queue")), Q);
    CU_ASSERT_TRUE(json_is_true(json_object_get(p, "retry")));
    json_t *created = json_object_get(p, "created_at"), *enq = json_object_get(p, "enqueued_at");
    CU_ASSERT_TRUE(json_is_real(created) && json_is_real(enq));
    CU_ASSERT(json_real_value(created) >= before - 0.001 &&
              json_real_value(created) <= epoch() + 0.001);
    CU_ASSERT(json_real_value(enq) >= json_real_value(created));
    /* Fractional seconds are kept. */
    CU_ASSERT(json_real_value(created) != floor(json_real_value(created)));
    json_decref(p);
    json_decref(list);
    json_t *member = q(3, (const char *[]){"SISMEMBER", "queues", Q});
    CU_ASSERT_EQUAL(json_integer_value(member), 1);
    json_decref(member);

    CU_ASSERT_EQUAL(pnk_job_enqueue("TestJob", Q, json_array(), 0, 3, jid, err, sizeof err), PN_OK);
    list = q(4, (const char *[]){"LRANGE", "queue:" Q, "0", "0"}); /* LPUSH: newest first */
    p = json_loads(json_string_value(json_array_get(list, 0)), 0, NULL);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "retry")), 3);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "jid")), jid);
    json_decref(p);
    json_decref(list);
    cleanup();
}

static void
test_job_enqueue_scheduled(void)
{
    char jid[25] = "", err[256] = "";
    double at = epoch() + 3600.25;
    CU_ASSERT_EQUAL_FATAL(
        pnk_job_enqueue("TestJob", Q, json_pack("[s]", "later"), at, 0, jid, err, sizeof err),
        PN_OK);
    char lo[64], hi[64];
    snprintf(lo, sizeof lo, "%.6f", at - 0.001);
    snprintf(hi, sizeof hi, "%.6f", at + 0.001);
    json_t *z = q(5, (const char *[]){"ZRANGEBYSCORE", "schedule", lo, hi, "WITHSCORES"});
    const char *found = NULL;
    double score = 0;
    for (size_t i = 0; i + 1 < json_array_size(z); i += 2) {
        const char *m = json_string_value(json_array_get(z, i));
        if (strstr(m, jid)) {
            found = m;
            score = strtod(json_string_value(json_array_get(z, i + 1)), NULL);
        }
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(found);
    CU_ASSERT(fabs(score - at) < 0.001);
    json_t *p = json_loads(found, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(p, "created_at"));
    CU_ASSERT_PTR_NULL(json_object_get(p, "enqueued_at"));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "retry")), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "class")), "TestJob");
    json_decref(p);
    /* Not in the queue list yet. */
    json_t *len = q(2, (const char *[]){"LLEN", "queue:" Q});
    CU_ASSERT_EQUAL(json_integer_value(len), 0);
    json_decref(len);
    json_decref(q(3, (const char *[]){"ZREM", "schedule", found}));
    json_decref(z);
}

static void
test_job_ids_are_unique(void)
{
    char seen[100][25], err[256];
    for (int i = 0; i < 100; i++) {
        CU_ASSERT_EQUAL_FATAL(
            pnk_job_enqueue("TestJob", Q, json_array(), 0, -1, seen[i], err, sizeof err), PN_OK);
        for (int j = 0; j < i; j++)
            CU_ASSERT_NOT_EQUAL(strcmp(seen[i], seen[j]), 0);
    }
    json_t *len = q(2, (const char *[]){"LLEN", "queue:" Q});
    CU_ASSERT_EQUAL(json_integer_value(len), 100);
    json_decref(len);
    cleanup();
}

static void
test_job_refuses_bad_names(void)
{
    static const char *const bad_queues[] = {
        "",    "Default", "a b",
        "q:1", "é",       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    static const char *const bad_classes[] = {"", "Bad Class", "a-b", "x;y", "Foo\n"};
    char jid[25] = "untouched", err[256];
    for (size_t i = 0; i < sizeof bad_queues / sizeof bad_queues[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(
            pnk_job_enqueue("TestJob", bad_queues[i], json_array(), 0, -1, jid, err, sizeof err),
            PN_E_INVALID);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "queue name"));
    }
    for (size_t i = 0; i < sizeof bad_classes / sizeof bad_classes[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(
            pnk_job_enqueue(bad_classes[i], Q, json_array(), 0, -1, jid, err, sizeof err),
            PN_E_INVALID);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "job class"));
    }
    char longc[202];
    memset(longc, 'A', 201);
    longc[201] = '\0';
    CU_ASSERT_EQUAL(pnk_job_enqueue(longc, Q, json_array(), 0, -1, jid, err, sizeof err),
                    PN_E_INVALID);
    longc[200] = '\0';
    CU_ASSERT_EQUAL(pnk_job_enqueue(longc, Q, json_array(), 0, -1, jid, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_job_enqueue(NULL, Q, json_array(), 0, -1, jid, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_job_enqueue("TestJob", NULL, json_array(), 0, -1, jid, err, sizeof err),
                    PN_E_INVALID);
    /* args must be an array; refused args are still released (ASan would report a leak). */
    CU_ASSERT_EQUAL(pnk_job_enqueue("TestJob", Q, json_object(), 0, -1, jid, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_job_enqueue("TestJob", Q, NULL, 0, -1, jid, err, sizeof err), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_job_enqueue("TestJob", Q, json_array(), NAN, -1, jid, err, sizeof err),
                    PN_E_INVALID);
    /* Only the one valid job above reached Redis. */
    json_t *len = q(2, (const char *[]){"LLEN", "queue:" Q});
    CU_ASSERT_EQUAL(json_integer_value(len), 1);
    json_decref(len);
    cleanup();
}

static int
suite_init(void)
{
    return th_init();
}

static int
suite_clean(void)
{
    pnk_redis_shutdown();
    return 0;
}

void
register_job_tests(void)
{
    CU_pSuite s = CU_add_suite("redis_job", suite_init, suite_clean);
    CU_add_test(s, "enqueue now", test_job_enqueue_now);
    CU_add_test(s, "enqueue scheduled", test_job_enqueue_scheduled);
    CU_add_test(s, "job ids are unique", test_job_ids_are_unique);
    CU_add_test(s, "refuses bad names", test_job_refuses_bad_names);
}
