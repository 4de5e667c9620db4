/*
 * Publishing against a real Redis: the script appends the event (without id) to the account's
 * backlog and publishes the same event with its stream id; the backlog is trimmed and expires;
 * bad channels, types, accounts and oversized events are refused before Redis is touched.
 */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../redis/redis.h"
#include "../events_int.h"

void register_publish_tests(void);

static char account[40];

typedef struct got {
    pthread_mutex_t mu;
    char msg[4096];
    char channel[128];
    int count;
} got_t;

static got_t got = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void
on_msg(void *ud, const char *channel, const char *msg, size_t len)
{
    (void)ud;
    pthread_mutex_lock(&got.mu);
    if (len < sizeof got.msg) {
        memcpy(got.msg, msg, len);
        got.msg[len] = '\0';
    }
    snprintf(got.channel, sizeof got.channel, "%s", channel);
    got.count++;
    pthread_mutex_unlock(&got.mu);
}

static json_t *
cmd(int argc, const char *const *argv)
{
    json_t *reply = NULL;
    char err[256];

    if (pnk_redis_command(PNK_REDIS_CACHE, argc, argv, NULL, &reply, err, sizeof err) != PN_OK) {
        fprintf(stderr, "redis: %s\n", err);
        return NULL;
    }
    return reply;
}

static char *
with_db(const char *url, int db)
{
    const char *hp = strstr(url, "://");
    const char *slash = hp ? strchr(hp + 3, '/') : NULL;
    size_t keep = slash ? (size_t)(slash - url) : strlen(url);
    char *out = malloc(keep + 16);

    snprintf(out, keep + 16, "%.*s/%d", (int)keep, url, db);
    return out;
}

static int
suite_init(void)
{
    char err[256];
    char *cache = with_db(getenv("PN_TEST_REDIS_URL"), 9);
    char *queue = with_db(getenv("PN_TEST_REDIS_URL"), 10);
    pnk_redis_config_t rc = {cache, queue, 2};
    int r = pnk_redis_init(&rc, err, sizeof err);

    free(cache);
    free(queue);
    if (r != 0) {
        fprintf(stderr, "redis init: %s\n", err);
        return -1;
    }
    snprintf(account, sizeof account, "test-%d-%ld", (int)getpid(), (long)random());
    return 0;
}

static int
suite_clean(void)
{
    char key[96];
    snprintf(key, sizeof key, "pn:eventlog:%s", account);
    const char *argv[] = {"DEL", key};
    json_decref(cmd(2, argv));
    pnk_redis_shutdown();
    return 0;
}

static void
test_publish_backlog_and_channel(void)
{
    char pattern[96], id[48], err[256], key[96];
    snprintf(pattern, sizeof pattern, "pn:events:%s", account);
    snprintf(key, sizeof key, "pn:eventlog:%s", account);
    pnk_redis_sub_t *sub = pnk_redis_subscribe(pattern, on_msg, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sub);

    int rc = pnk_events_publish(account, "hello.greetings", "created",
                                json_pack("{s:s}", "message", "hi\nthere"), id, err, sizeof err);
    CU_ASSERT_EQUAL_FATAL(rc, PN_OK);
    pnk_event_id_t parsed;
    CU_ASSERT_EQUAL(pnk_event_id_parse(id, &parsed), 0);

    for (int i = 0; i < 300; i++) {
        pthread_mutex_lock(&got.mu);
        int n = got.count;
        pthread_mutex_unlock(&got.mu);
        if (n)
            break;
        usleep(10000);
    }
    pthread_mutex_lock(&got.mu);
    CU_ASSERT_EQUAL(got.count, 1);
    CU_ASSERT_STRING_EQUAL(got.channel, pattern);
    json_t *ev = json_loads(got.msg, 0, NULL);
    CU_ASSERT_PTR_NULL(strchr(got.msg, '\n')); /* one line, so one SSE data line */
    char prefix[80];
    snprintf(prefix, sizeof prefix, "{\"id\":\"%s\",", id);
    CU_ASSERT_EQUAL(strncmp(got.msg, prefix, strlen(prefix)), 0);
    pthread_mutex_unlock(&got.mu);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "id")), id);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "channel")), "hello.greetings");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "type")), "created");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "account_id")), account);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ev, "permission")),
                           "hello.greetings.read");
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(ev, "data"), "message")), "hi\nthere");
    CU_ASSERT_PTR_NOT_NULL(json_object_get(ev, "published_at"));

    /* The backlog holds the same event without its id, under the same stream id. */
    const char *xr[] = {"XRANGE", key, "-", "+"};
    json_t *r = cmd(4, xr);
    CU_ASSERT_EQUAL_FATAL(json_array_size(r), 1);
    json_t *entry = json_array_get(r, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(entry, 0)), id);
    json_t *fields = json_array_get(entry, 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(fields, 0)), "e");
    const char *payload = json_string_value(json_array_get(fields, 1));
    size_t n = 0;
    char *sse = pnk_events_sse_from_entry(id, payload, strlen(payload), &n);
    CU_ASSERT_PTR_NOT_NULL(sse);
    /* Replayed and live copies are byte for byte the same. */
    char live[4200];
    snprintf(live, sizeof live, "id: %s\ndata: %s\n\n", id, got.msg);
    CU_ASSERT_STRING_EQUAL(sse, live);
    free(sse);
    json_decref(r);
    json_decref(ev);

    const char *ttl[] = {"TTL", key};
    r = cmd(2, ttl);
    CU_ASSERT(json_integer_value(r) > 0 && json_integer_value(r) <= 86400);
    json_decref(r);
    pnk_redis_unsubscribe(sub);
}

static void
test_backlog_trimmed(void)
{
    char err[256], key[96], id[48], prev[48] = "";
    int saved = pnk_events_settings.backlog;

    snprintf(key, sizeof key, "pn:eventlog:%s", account);
    pnk_events_settings.backlog = 10;
    for (int i = 0; i < 500; i++) {
        CU_ASSERT_EQUAL_FATAL(
            pnk_events_publish(account, "audit", "x", json_integer(i), id, err, sizeof err), PN_OK);
        pnk_event_id_t a, b;
        if (prev[0]) { /* ids only grow */
            pnk_event_id_parse(prev, &a);
            pnk_event_id_parse(id, &b);
            CU_ASSERT(pnk_event_id_cmp(&a, &b) < 0);
        }
        snprintf(prev, sizeof prev, "%s", id);
    }
    pnk_events_settings.backlog = saved;
    const char *xl[] = {"XLEN", key};
    json_t *r = cmd(2, xl);
    /* "~" trims whole nodes: more than 10 may stay, never the 500. */
    CU_ASSERT(json_integer_value(r) >= 10 && json_integer_value(r) < 250);
    json_decref(r);
}

static void
test_refusals(void)
{
    char err[256];

    CU_ASSERT_EQUAL(pnk_events_publish(account, "hello", "x", NULL, NULL, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_EQUAL(
        pnk_events_publish(account, "hello.x", "Bad Type", json_true(), NULL, err, sizeof err),
        PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_events_publish(NULL, "hello.x", "t", json_true(), NULL, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_events_publish("", "hello.x", "t", NULL, NULL, err, sizeof err),
                    PN_E_INVALID);
    char *big = malloc(PNK_EVENTS_MAX_BYTES);
    memset(big, 'a', PNK_EVENTS_MAX_BYTES - 1);
    big[PNK_EVENTS_MAX_BYTES - 1] = '\0';
    CU_ASSERT_EQUAL(
        pnk_events_publish(account, "hello.x", "t", json_string(big), NULL, err, sizeof err),
        PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "limit"));
    free(big);
}

void
register_publish_tests(void)
{
    CU_pSuite s = CU_add_suite("events_publish", suite_init, suite_clean);
    CU_add_test(s, "backlog and channel carry the same event", test_publish_backlog_and_channel);
    CU_add_test(s, "backlog trimmed, ids grow", test_backlog_trimmed);
    CU_add_test(s, "bad events refused", test_refusals);
}
