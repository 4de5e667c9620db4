/* Init against throwaway servers: eviction refused (CONFIG and INFO paths), auth, unix
 * sockets, unreachable servers, and a subscription surviving a Redis restart. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../redis.h"
#include "helpers.h"

void register_init_tests(void);

static int
init_urls(const char *url, const char *queue_url, char *err, size_t errlen)
{
    pnk_redis_config_t cfg = {.url = url, .queue_url = queue_url, .timeout = 1.0};
    return pnk_redis_init(&cfg, err, errlen);
}

static void
test_init_refuses_evicting_server(void)
{
    static const char *const lru[] = {"--maxmemory-policy", "allkeys-lru", NULL};
    int port = 0;
    pid_t pid = th_redis_start(&port, lru);
    CU_ASSERT_FATAL(pid > 0);
    char url[128], err[256] = "", want[256];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    snprintf(want, sizeof want,
             "redis 127.0.0.1:%d uses maxmemory-policy allkeys-lru; jobs and rate limits need "
             "noeviction",
             port);
    CU_ASSERT_EQUAL(init_urls(url, NULL, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(pnk_redis_ping(PNK_REDIS_CACHE), PN_E_UNAVAILABLE); /* not initialised */

    /* The same server after switching to noeviction is accepted. */
    CU_ASSERT_EQUAL(th_direct(port, NULL, "CONFIG SET maxmemory-policy noeviction", NULL, 0), 0);
    CU_ASSERT_EQUAL(init_urls(url, NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(init_urls(url, NULL, err, sizeof err), -1); /* twice is refused */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "already"));
    CU_ASSERT_EQUAL(pnk_redis_ping(PNK_REDIS_QUEUE), PN_OK);
    pnk_redis_shutdown();

    /* A queue server that evicts is refused too, naming that server. */
    CU_ASSERT_EQUAL(th_direct(port, NULL, "CONFIG SET maxmemory-policy volatile-ttl", NULL, 0), 0);
    char cache[512];
    CU_ASSERT_EQUAL_FATAL(th_url_with_db(th_env_url(), TH_CACHE_DB, cache, sizeof cache), 0);
    snprintf(want, sizeof want,
             "redis 127.0.0.1:%d uses maxmemory-policy volatile-ttl; jobs and rate limits need "
             "noeviction",
             port);
    CU_ASSERT_EQUAL(init_urls(cache, url, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, want);
    th_redis_stop(pid);
}

/* CONFIG renamed away (as managed Redis services do): INFO memory still tells the policy. */
static void
test_init_policy_from_info(void)
{
    static const char *const args[] = {
        "--maxmemory-policy", "allkeys-lfu", "--rename-command", "CONFIG", "PNHIDDENCONFIG", NULL};
    int port = 0;
    pid_t pid = th_redis_start(&port, args);
    CU_ASSERT_FATAL(pid > 0);
    char url[128], err[256] = "", want[256];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/2", port);
    snprintf(want, sizeof want,
             "redis 127.0.0.1:%d uses maxmemory-policy allkeys-lfu; jobs and rate limits need "
             "noeviction",
             port);
    CU_ASSERT_EQUAL(init_urls(url, NULL, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(
        th_direct(port, NULL, "PNHIDDENCONFIG SET maxmemory-policy noeviction", NULL, 0), 0);
    CU_ASSERT_EQUAL(init_urls(url, NULL, err, sizeof err), 0);
    pnk_redis_shutdown();
    th_redis_stop(pid);
}

static void
test_init_unreachable(void)
{
    int port = th_free_port();
    CU_ASSERT_FATAL(port > 0);
    char url[128], err[256] = "", where[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    snprintf(where, sizeof where, "redis 127.0.0.1:%d: ", port);
    double t0 = th_now();
    CU_ASSERT_EQUAL(init_urls(url, NULL, err, sizeof err), -1);
    CU_ASSERT(th_now() - t0 < 1.5);
    CU_ASSERT_EQUAL(strncmp(err, where, strlen(where)), 0);
    CU_ASSERT_EQUAL(init_urls("redis://:6379/0", NULL, err, sizeof err), -1);
    CU_ASSERT_EQUAL(init_urls(NULL, NULL, err, sizeof err), -1);
    pnk_redis_config_t cfg = {.url = url, .timeout = -1};
    CU_ASSERT_EQUAL(pnk_redis_init(&cfg, err, sizeof err), -1);
}

static void
test_init_auth_and_unix_socket(void)
{
    char sock[64];
    snprintf(sock, sizeof sock, "/tmp/pn-redis-test-%d.sock", (int)getpid());
    const char *const args[] = {"--requirepass", "s3cr%t", "--unixsocket", sock, "--unixsocketperm",
                                "700",           NULL};
    int port = 0;
    pid_t pid = th_redis_start(&port, args);
    CU_ASSERT_FATAL(pid > 0);
    char url[256], err[256] = "";
    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d/0", port);
    CU_ASSERT_EQUAL(init_urls(url, NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AUTH failed"));
    CU_ASSERT_PTR_NULL(strstr(err, "wrong"));

    /* ACL form user:password, percent-encoded. */
    snprintf(url, sizeof url, "redis://default:s3cr%%25t@127.0.0.1:%d/3", port);
    CU_ASSERT_EQUAL_FATAL(init_urls(url, NULL, err, sizeof err), 0);
    const char *argv[] = {"CLIENT", "INFO"};
    json_t *r = NULL;
    CU_ASSERT_EQUAL(pnk_redis_command(PNK_REDIS_CACHE, 2, argv, NULL, &r, err, sizeof err), PN_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(r), " db=3 "));
    json_decref(r);
    CU_ASSERT_EQUAL(pnk_redis_command(PNK_REDIS_QUEUE, 2, argv, NULL, &r, err, sizeof err), PN_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(r), " db=1 ")); /* default queue database */
    json_decref(r);
    pnk_redis_shutdown();

    snprintf(url, sizeof url, "unix://%s?db=5&password=s3cr%%25t", sock);
    CU_ASSERT_EQUAL_FATAL(init_urls(url, NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_redis_command(PNK_REDIS_CACHE, 2, argv, NULL, &r, err, sizeof err), PN_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(r), " db=5 "));
    json_decref(r);
    pnk_redis_shutdown();
    th_redis_stop(pid);
    unlink(sock);
}

typedef struct {
    pthread_mutex_t mu;
    int count;
} counter_t;

static void
on_msg(void *ud, const char *channel, const char *msg, size_t len)
{
    (void)channel;
    (void)msg;
    (void)len;
    counter_t *c = ud;
    pthread_mutex_lock(&c->mu);
    c->count++;
    pthread_mutex_unlock(&c->mu);
}

static int
count_of(counter_t *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->count;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Publish until a message arrives (bounded); true when one did. */
static bool
delivered_within(counter_t *c, double secs)
{
    int start = count_of(c);
    double t0 = th_now();
    while (th_now() - t0 < secs) {
        pnk_redis_publish("pn:test:restart", "x", 1); /* fails while Redis is down */
        th_sleep_ms(100);
        if (count_of(c) > start)
            return true;
    }
    return false;
}

static void
test_init_subscription_survives_restart(void)
{
    int port = 0;
    pid_t pid = th_redis_start(&port, NULL);
    CU_ASSERT_FATAL(pid > 0);
    char url[128], err[256] = "";
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    CU_ASSERT_EQUAL_FATAL(init_urls(url, NULL, err, sizeof err), 0);
    counter_t c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    pnk_redis_sub_t *s = pnk_redis_subscribe("pn:test:*", on_msg, &c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(delivered_within(&c, 3.0));

    th_redis_stop(pid);
    CU_ASSERT_EQUAL(pnk_redis_publish("pn:test:restart", "x", 1), PN_E_UNAVAILABLE);
    th_sleep_ms(300);
    pid = th_redis_start_on(port, NULL);
    CU_ASSERT_FATAL(pid > 0);
    CU_ASSERT_TRUE(delivered_within(&c, 10.0));
    pnk_redis_unsubscribe(s);
    pnk_redis_shutdown();
    th_redis_stop(pid);
}

void
register_init_tests(void)
{
    CU_pSuite s = CU_add_suite("redis_init", NULL, NULL);
    CU_add_test(s, "refuses an evicting server", test_init_refuses_evicting_server);
    CU_add_test(s, "policy from INFO when CONFIG is renamed", test_init_policy_from_info);
    CU_add_test(s, "unreachable server", test_init_unreachable);
    CU_add_test(s, "auth and unix socket", test_init_auth_and_unix_socket);
    CU_add_test(s, "subscription survives a restart", test_init_subscription_survives_restart);
}
