/* Publish and a pattern subscription on its own thread: delivery, binary payloads, stop. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../redis.h"
#include "helpers.h"

void register_pubsub_tests(void);

typedef struct {
    pthread_mutex_t mu;
    int count;
    char channel[128];
    char msg[128];
    size_t len;
} inbox_t;

static void
on_message(void *ud, const char *channel, const char *msg, size_t len)
{
    inbox_t *in = ud;
    pthread_mutex_lock(&in->mu);
    in->count++;
    snprintf(in->channel, sizeof in->channel, "%s", channel);
    in->len = len < sizeof in->msg ? len : sizeof in->msg;
    memcpy(in->msg, msg, in->len);
    pthread_mutex_unlock(&in->mu);
}

static int
wait_count(inbox_t *in, int want, double secs)
{
    double t0 = th_now();
    int n = 0;
    do {
        pthread_mutex_lock(&in->mu);
        n = in->count;
        pthread_mutex_unlock(&in->mu);
        if (n >= want)
            break;
        th_sleep_ms(20);
    } while (th_now() - t0 < secs);
    return n;
}

static void
test_pubsub_round_trip(void)
{
    inbox_t in = {.mu = PTHREAD_MUTEX_INITIALIZER};
    pnk_redis_sub_t *s = pnk_redis_subscribe("pn:test:ps:*", on_message, &in);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(pnk_redis_publish("pn:test:other", "no", 2), PN_OK);
    CU_ASSERT_EQUAL(pnk_redis_publish("pn:test:ps:a", "he\0llo", 6), PN_OK);
    CU_ASSERT_EQUAL(wait_count(&in, 1, 5.0), 1);
    CU_ASSERT_STRING_EQUAL(in.channel, "pn:test:ps:a");
    CU_ASSERT_EQUAL(in.len, 6);
    CU_ASSERT_EQUAL(memcmp(in.msg, "he\0llo", 6), 0);
    CU_ASSERT_EQUAL(pnk_redis_publish("pn:test:ps:b", "2", 1), PN_OK);
    CU_ASSERT_EQUAL(wait_count(&in, 2, 5.0), 2);
    CU_ASSERT_STRING_EQUAL(in.channel, "pn:test:ps:b");
    double t0 = th_now();
    pnk_redis_unsubscribe(s);
    CU_ASSERT(th_now() - t0 < 1.0); /* the reader notices a stop quickly */
    CU_ASSERT_EQUAL(pnk_redis_publish("pn:test:ps:c", "3", 1), PN_OK);
    th_sleep_ms(100);
    CU_ASSERT_EQUAL(wait_count(&in, 3, 0.0), 2);
    CU_ASSERT_PTR_NULL(pnk_redis_subscribe(NULL, on_message, &in));
    CU_ASSERT_EQUAL(pnk_redis_publish(NULL, "x", 1), PN_E_INVALID);
    pnk_redis_unsubscribe(NULL);
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
register_pubsub_tests(void)
{
    CU_pSuite s = CU_add_suite("redis_pubsub", suite_init, suite_clean);
    CU_add_test(s, "publish/subscribe round trip", test_pubsub_round_trip);
}
