/* The worker config: defaults, a full file, environment overrides, and precise errors. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"
#include "wconfig.h"

static char *
write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/pnw-cfg-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void
test_defaults(void)
{
    char err[512];
    unsetenv("REDIS_URL");
    pnw_config_t *c = pnw_config_load(NULL, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(c->concurrency, 10);
    CU_ASSERT_EQUAL(c->nqueues, 1);
    CU_ASSERT_STRING_EQUAL(c->queues[0].name, "default");
    CU_ASSERT_DOUBLE_EQUAL(c->shutdown_timeout, 25, 1e-9);
    CU_ASSERT_STRING_EQUAL(c->token_issuer, "powernode");
    CU_ASSERT_STRING_EQUAL(c->token_audience, "powernode-api");
    CU_ASSERT_EQUAL(c->dead_days, 14);
    pnw_config_free(c);
}

static void
test_file_and_env(void)
{
    char err[512];
    char *p = write_tmp("name: media-1\n"
                        "concurrency: 4\n"
                        "queues:\n  critical: 3\n  default: 1\n"
                        "plugins:\n  - /x/a.so\n  - /x/b.so\n"
                        "redis:\n  url: redis://127.0.0.1:7000/0\n"
                        "heartbeat:\n  interval: 1\n  ttl: 4\n"
                        "schedules:\n  - name: tick\n    cron: '*/5 * * * *'\n"
                        "    class: Maintenance::Noop\n    args: '[1]'\n"
                        "job_plugins:\n  maintenance:\n    ping_path: /p\n");
    setenv("PN_WORKER_CONCURRENCY", "7", 1);
    setenv("BACKEND_API_URL", "http://127.0.0.1:9/", 1);
    setenv("WORKER_SERVICE_TOKEN", "s3cret-s3cret-s3cret-s3cret-s3cret", 1);
    pnw_config_t *c = pnw_config_load(p, err, sizeof err);
    unsetenv("PN_WORKER_CONCURRENCY");
    unsetenv("BACKEND_API_URL");
    if (!c)
        fprintf(stderr, "%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->name, "media-1");
    CU_ASSERT_EQUAL(c->concurrency, 7);
    CU_ASSERT_EQUAL(c->nqueues, 2);
    CU_ASSERT_EQUAL(c->queues[0].weight, 3);
    CU_ASSERT_EQUAL(c->nplugins, 2);
    CU_ASSERT_STRING_EQUAL(c->server_url, "http://127.0.0.1:9/");
    CU_ASSERT_STRING_EQUAL(c->token_secret, "s3cret-s3cret-s3cret-s3cret-s3cret");
    CU_ASSERT_EQUAL(c->nschedules, 1);
    CU_ASSERT_STRING_EQUAL(c->schedules[0].queue, "default");
    CU_ASSERT_STRING_EQUAL(pnw_config_plugin_key(c, "maintenance", "ping_path"), "/p");
    CU_ASSERT_PTR_NULL(pnw_config_plugin_key(c, "maintenance", "nope"));
    pnw_config_free(c);
    unlink(p);
}

static void
expect_error(const char *text, const char *needle)
{
    char err[512] = "";
    char *p = write_tmp(text);
    pnw_config_t *c = pnw_config_load(p, err, sizeof err);
    CU_ASSERT_PTR_NULL(c);
    pnw_config_free(c);
    if (!strstr(err, needle))
        fprintf(stderr, "\n  error \"%s\" lacks \"%s\"\n", err, needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
    unlink(p);
}

static void
test_errors(void)
{
    expect_error("concurrency: 0\n", ":1: concurrency: 0 is outside 1..256");
    expect_error("concurency: 3\n", ":1: unknown key concurency");
    expect_error("redis:\n  urll: x\n", ":2: unknown key redis.urll");
    expect_error("queues:\n  Bad Queue: 1\n", "queue name \"Bad Queue\"");
    expect_error("queues:\n  a: zero\n", "weight \"zero\"");
    expect_error("heartbeat:\n  interval: 5\n  ttl: 6\n", "at least twice");
    expect_error("a: [\n", "did not find expected");
    expect_error("schedules:\n  - name: x\n", "needs name, cron and class");
    expect_error("concurrency: 1\nconcurrency: 2\n", "given twice");
    expect_error("log_level: loud\n", "log_level");
}

void
add_config_tests(void)
{
    CU_pSuite s = CU_add_suite("config", NULL, NULL);
    CU_add_test(s, "defaults", test_defaults);
    CU_add_test(s, "file and environment", test_file_and_env);
    CU_add_test(s, "errors name the line and the key", test_errors);
}
