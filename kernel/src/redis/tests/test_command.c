/* Commands and replies on per-thread connections: conversion, errors, timeouts, reconnects. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../redis_internal.h"
#include "helpers.h"

void register_command_tests(void);

#define K(x) "pn:test:cmd:" x

static int
cmd(pnk_redis_target_t t, json_t **reply, char *err, size_t errlen, int argc, ...)
{
    const char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    return pnk_redis_command(t, argc, argv, NULL, reply, err, errlen);
}

static long long
client_id(pnk_redis_target_t t)
{
    json_t *r = NULL;
    if (cmd(t, &r, NULL, 0, 2, "CLIENT", "ID") != PN_OK)
        return -1;
    long long id = json_integer_value(r);
    json_decref(r);
    return id;
}

static void
test_command_reply_types(void)
{
    json_t *r = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, err, sizeof err, 1, "PING"), PN_OK);
    CU_ASSERT_STRING_EQUAL(json_string_value(r), "PONG");
    json_decref(r);

    /* A bulk string keeps its bytes, NUL included. */
    static const char binval[] = {'a', '\0', 'b', '\xff', 'c'};
    const char *argv[] = {"SET", K("bin"), binval};
    size_t lens[] = {3, strlen(K("bin")), 5};
    CU_ASSERT_EQUAL(pnk_redis_command(PNK_REDIS_CACHE, 3, argv, lens, NULL, err, sizeof err),
                    PN_OK);
    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, err, sizeof err, 2, "GET", K("bin")), PN_OK);
    CU_ASSERT_TRUE(json_is_string(r));
    CU_ASSERT_EQUAL(json_string_length(r), 5);
    CU_ASSERT_EQUAL(memcmp(json_string_value(r),
                           "a\0b\xff"
                           "c",
                           5),
                    0);
    json_decref(r);

    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, err, sizeof err, 2, "INCR", K("n")), PN_OK);
    CU_ASSERT_TRUE(json_is_integer(r));
    CU_ASSERT_EQUAL(json_integer_value(r), 1);
    json_decref(r);

    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, err, sizeof err, 2, "GET", K("missing")), PN_OK);
    CU_ASSERT_TRUE(json_is_null(r));
    json_decref(r);

    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, NULL, err, sizeof err, 5, "RPUSH", K("l"), "x", "7", ""),
                    PN_OK);
    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, err, sizeof err, 4, "LRANGE", K("l"), "0", "-1"),
                    PN_OK);
    json_t *want = json_pack("[sss]", "x", "7", "");
    CU_ASSERT_TRUE(json_equal(r, want));
    json_decref(want);
    json_decref(r);

    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, err, sizeof err, 4, "DEL", K("bin"), K("n"), K("l")),
                    PN_OK);
    CU_ASSERT_EQUAL(json_integer_value(r), 3);
    json_decref(r);
    CU_ASSERT_EQUAL(pnk_redis_ping(PNK_REDIS_CACHE), PN_OK);
    CU_ASSERT_EQUAL(pnk_redis_ping(PNK_REDIS_QUEUE), PN_OK);
}

static void
test_command_error_replies(void)
{
    json_t *r = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, NULL, err, sizeof err, 3, "SET", K("s"), "text"), PN_OK);
    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, err, sizeof err, 2, "INCR", K("s")), PN_E_INTERNAL);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an integer"));
    err[0] = '\0';
    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, err, sizeof err, 1, "NOSUCHCOMMAND"), PN_E_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown command"));
    /* An error reply leaves the connection usable. */
    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, NULL, err, sizeof err, 2, "DEL", K("s")), PN_OK);
    CU_ASSERT_EQUAL(pnk_redis_command(PNK_REDIS_CACHE, 0, NULL, NULL, &r, err, sizeof err),
                    PN_E_INVALID);
}

static void
test_command_targets_use_their_databases(void)
{
    json_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(cmd(PNK_REDIS_CACHE, &r, NULL, 0, 2, "CLIENT", "INFO"), PN_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(r), " db=14 "));
    json_decref(r);
    CU_ASSERT_EQUAL_FATAL(cmd(PNK_REDIS_QUEUE, &r, NULL, 0, 2, "CLIENT", "INFO"), PN_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(r), " db=15 "));
    json_decref(r);
}

/* The server closing an idle connection (restart, CLIENT KILL) costs no failed call. */
static void
test_command_reconnects_after_kill(void)
{
    long long before = client_id(PNK_REDIS_CACHE);
    CU_ASSERT_FATAL(before > 0);
    char id[32];
    snprintf(id, sizeof id, "%lld", before);
    json_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(cmd(PNK_REDIS_QUEUE, &r, NULL, 0, 4, "CLIENT", "KILL", "ID", id), PN_OK);
    CU_ASSERT_EQUAL(json_integer_value(r), 1);
    json_decref(r);
    th_sleep_ms(50); /* let the FIN arrive */
    long long after = client_id(PNK_REDIS_CACHE);
    CU_ASSERT(after > 0 && after != before);
}

/* A command that outlives the timeout fails with PN_E_TIMEOUT and the next call reconnects. */
static void
test_command_timeout(void)
{
    char err[256] = "";
    double t0 = th_now();
    int rc = cmd(PNK_REDIS_CACHE, NULL, err, sizeof err, 3, "BLPOP", K("never"), "4");
    double took = th_now() - t0;
    CU_ASSERT_EQUAL(rc, PN_E_TIMEOUT);
    CU_ASSERT(took >= 1.8 && took < 3.5);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no reply within"));
    CU_ASSERT_EQUAL(pnk_redis_ping(PNK_REDIS_CACHE), PN_OK);
}

#define NTHREADS 4
#define NINCR 50

typedef struct {
    long long id;
    int ok;
    int done;
} worker_t;

static void *
worker(void *arg)
{
    worker_t *w = arg;
    w->id = client_id(PNK_REDIS_CACHE);
    for (int i = 0; i < NINCR; i++)
        w->ok += cmd(PNK_REDIS_CACHE, NULL, NULL, 0, 2, "INCR", K("threads")) == PN_OK;
    /* One thread leaves its connection behind for pnk_redis_shutdown to close (ASan checks). */
    if (w->done)
        pnk_redis_thread_done();
    return NULL;
}

static void
test_command_per_thread_connections(void)
{
    pthread_t th[NTHREADS];
    worker_t w[NTHREADS] = {{0}};
    for (int i = 0; i < NTHREADS; i++) {
        w[i].done = i != 0;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    long long mine = client_id(PNK_REDIS_CACHE);
    for (int i = 0; i < NTHREADS; i++) {
        CU_ASSERT_EQUAL(w[i].ok, NINCR);
        CU_ASSERT(w[i].id > 0 && w[i].id != mine);
        for (int j = 0; j < i; j++)
            CU_ASSERT_NOT_EQUAL(w[i].id, w[j].id);
    }
    json_t *r = NULL;
    CU_ASSERT_EQUAL(cmd(PNK_REDIS_CACHE, &r, NULL, 0, 2, "GET", K("threads")), PN_OK);
    CU_ASSERT_STRING_EQUAL(json_string_value(r), "200");
    json_decref(r);
    cmd(PNK_REDIS_CACHE, NULL, NULL, 0, 2, "DEL", K("threads"));
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
register_command_tests(void)
{
    CU_pSuite s = CU_add_suite("redis_command", suite_init, suite_clean);
    CU_add_test(s, "reply types", test_command_reply_types);
    CU_add_test(s, "error replies", test_command_error_replies);
    CU_add_test(s, "targets use their databases", test_command_targets_use_their_databases);
    CU_add_test(s, "reconnects after the server closes", test_command_reconnects_after_kill);
    CU_add_test(s, "timeout", test_command_timeout);
    CU_add_test(s, "per-thread connections", test_command_per_thread_connections);
}
