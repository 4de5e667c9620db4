/*
 * Streaming responses over real loopback sockets: chunked and HTTP/1.0 framing, writes from
 * another thread, the client leaving, a client that never reads (dropped with a bounded amount
 * accepted), HEAD, and a graceful stop that ends streams at once. Every wait is bounded.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../http.h"
#include "test_client.h"

void register_stream_tests(void);

#define SMALL_CAP 8192

/* The stream the handler opened, for the test thread to write to. */
static _Atomic(pnk_http_stream_t *) cur;
static atomic_int closes, dones;
static atomic_bool close_in_callback;

static void
on_close(void *ud)
{
    (void)ud;
    atomic_fetch_add(&closes, 1);
    if (atomic_load(&close_in_callback)) {
        /* The owner may give its reference back from here. */
        pnk_http_stream_t *st = atomic_exchange(&cur, NULL);
        pnk_http_stream_close(st);
    }
}

static void
handle(void *ud, pnk_http_request_t *req, pnk_http_response_t *resp)
{
    (void)ud;
    if (strcmp(req->path, "/plain") == 0) {
        resp->status = 200;
        resp->body = "plain";
        resp->body_len = 5;
        return;
    }
    size_t cap = strcmp(req->path, "/small") == 0 ? SMALL_CAP : 0;
    pnk_http_stream_t *st = pnk_http_stream_start(req, resp, cap, on_close, NULL);
    CU_ASSERT_PTR_NOT_NULL(st);
    /* A second start on the same request is refused. */
    CU_ASSERT_PTR_NULL(pnk_http_stream_start(req, resp, cap, on_close, NULL));
    pnk_http_response_header(req, resp, "Content-Type", "text/event-stream");
    /* Written before the head exists: queued and sent after it. */
    CU_ASSERT_EQUAL(pnk_http_stream_write(st, "first", 5), 0);
    atomic_store(&cur, st);
}

static void
on_done(void *ud, const pnk_http_request_t *req, const pnk_http_response_t *resp, double ms)
{
    (void)ud;
    (void)req;
    (void)resp;
    (void)ms;
    atomic_fetch_add(&dones, 1);
}

static const pnk_http_app_t app = {NULL, NULL, handle, on_done};

typedef struct running {
    pnk_http_server_t *s;
    pthread_t thread;
    int port;
    atomic_bool returned;
} running_t;

static void *
run_thread(void *arg)
{
    running_t *r = arg;
    pnk_http_server_run(r->s);
    atomic_store(&r->returned, true);
    return NULL;
}

static running_t *
start(double grace)
{
    pnk_http_limits_t l;
    char err[256];
    running_t *r = calloc(1, sizeof *r);

    pnk_http_limits_default(&l);
    l.port = 0;
    l.threads = 2;
    l.shutdown_grace = grace;
    r->s = pnk_http_server_new(&l, &app, err, sizeof err);
    if (r->s == NULL) {
        fprintf(stderr, "server_new: %s\n", err);
        free(r);
        return NULL;
    }
    r->port = pnk_http_server_port(r->s);
    pthread_create(&r->thread, NULL, run_thread, r);
    return r;
}

/* Stop and wait at most max_ms for run to return; the milliseconds it took, or -1. */
static int
stop(running_t *r, int max_ms)
{
    struct timespec a, b;
    int ms = -1;

    clock_gettime(CLOCK_MONOTONIC, &a);
    pnk_http_server_stop(r->s);
    for (int i = 0; i < max_ms / 10 && !atomic_load(&r->returned); i++)
        usleep(10000);
    if (atomic_load(&r->returned)) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms = (int)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
        pthread_join(r->thread, NULL);
        pnk_http_server_free(r->s);
        free(r);
    }
    return ms;
}

static void
reset(void)
{
    atomic_store(&cur, NULL);
    atomic_store(&closes, 0);
    atomic_store(&dones, 0);
    atomic_store(&close_in_callback, false);
}

/* Wait up to 5 s for the handler's stream. */
static pnk_http_stream_t *
wait_stream(void)
{
    for (int i = 0; i < 500; i++) {
        pnk_http_stream_t *st = atomic_load(&cur);
        if (st)
            return st;
        usleep(10000);
    }
    return NULL;
}

static bool
wait_count(atomic_int *v, int want, int max_ms)
{
    for (int i = 0; i < max_ms / 10 && atomic_load(v) < want; i++)
        usleep(10000);
    return atomic_load(v) == want;
}

/* Read until needle is in c->buf or the server closes; true when found. Bounded by the
 * connection's receive timeout per read and 50 reads of nothing. */
static bool
read_until(tc_conn_t *c, const char *needle)
{
    for (int i = 0; i < 200; i++) {
        c->buf[c->len < sizeof c->buf ? c->len : sizeof c->buf - 1] = '\0';
        if (memmem(c->buf, c->len, needle, strlen(needle)))
            return true;
        if (c->len >= sizeof c->buf - 1)
            return false;
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
        if (n <= 0)
            return memmem(c->buf, c->len, needle, strlen(needle)) != NULL;
        c->len += (size_t)n;
    }
    return false;
}

/* Read (keeping at most what fits in c->buf) until EOF or reset; true when the server closed
 * within timeout_ms per read. Bounded at 64 MiB read. */
static bool
until_eof(tc_conn_t *c, int timeout_ms)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    size_t total = 0;

    while (total < 64u * 1024 * 1024) {
        if (poll(&pfd, 1, timeout_ms) <= 0)
            return false;
        char tmp[16384];
        ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false;
        total += (size_t)n;
        size_t room = sizeof c->buf - 1 - c->len;
        size_t k = (size_t)n < room ? (size_t)n : room;
        memcpy(c->buf + c->len, tmp, k);
        c->len += k;
        c->buf[c->len] = '\0';
    }
    return false;
}

static running_t *srv;
static tc_conn_t cc;

static void
test_chunked_stream(void)
{
    reset();
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /s HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    pnk_http_stream_t *st = wait_stream();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE(read_until(&cc, "5\r\nfirst\r\n"));
    CU_ASSERT_EQUAL(pnk_http_stream_write(st, "second!", 7), 0);
    CU_ASSERT_EQUAL(pnk_http_stream_write(st, "", 0), 0);
    CU_ASSERT_TRUE(read_until(&cc, "7\r\nsecond!\r\n"));
    CU_ASSERT_PTR_NOT_NULL(memmem(cc.buf, cc.len, "HTTP/1.1 200 OK\r\n", 17));
    CU_ASSERT_PTR_NOT_NULL(strstr(cc.buf, "Transfer-Encoding: chunked\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cc.buf, "Connection: close\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cc.buf, "Content-Type: text/event-stream\r\n"));
    CU_ASSERT_PTR_NULL(strstr(cc.buf, "Content-Length"));
    pnk_http_stats_t stats;
    pnk_http_server_stats(srv->s, &stats);
    CU_ASSERT_EQUAL(stats.streams_open, 1);
    CU_ASSERT_EQUAL(atomic_load(&closes), 0);
    /* Written just before the close: still delivered, then the last chunk and EOF. */
    CU_ASSERT_EQUAL(pnk_http_stream_write(st, "bye", 3), 0);
    pnk_http_stream_close(st);
    CU_ASSERT_TRUE(until_eof(&cc, 3000));
    CU_ASSERT_PTR_NOT_NULL(strstr(cc.buf, "3\r\nbye\r\n0\r\n\r\n"));
    tc_close(&cc);
    CU_ASSERT_TRUE(wait_count(&closes, 1, 3000));
    CU_ASSERT_TRUE(wait_count(&dones, 1, 3000));
    pnk_http_server_stats(srv->s, &stats);
    CU_ASSERT_EQUAL(stats.streams_open, 0);
}

static void
test_http10_stream(void)
{
    reset();
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /s HTTP/1.0\r\n\r\n"), 0);
    pnk_http_stream_t *st = wait_stream();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(pnk_http_stream_write(st, "-raw-", 5), 0);
    CU_ASSERT_TRUE(read_until(&cc, "\r\n\r\nfirst-raw-"));
    CU_ASSERT_PTR_NULL(strstr(cc.buf, "Transfer-Encoding"));
    pnk_http_stream_close(st);
    CU_ASSERT_TRUE(until_eof(&cc, 3000));
    CU_ASSERT_PTR_NULL(strstr(cc.buf, "0\r\n\r\n"));
    tc_close(&cc);
    CU_ASSERT_TRUE(wait_count(&closes, 1, 3000));
}

static void
test_client_leaves(void)
{
    reset();
    atomic_store(&close_in_callback, true); /* on_close gives the reference back */
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /s HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wait_stream());
    CU_ASSERT_TRUE(read_until(&cc, "first"));
    tc_close(&cc);
    CU_ASSERT_TRUE(wait_count(&closes, 1, 3000));
    CU_ASSERT_TRUE(wait_count(&dones, 1, 3000));
    CU_ASSERT_PTR_NULL(atomic_load(&cur));
    /* The server still serves. */
    CU_ASSERT_EQUAL(tc_get_status(srv->port, "/plain"), 200);
}

static void
test_write_after_end_fails(void)
{
    reset();
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /s HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    pnk_http_stream_t *st = wait_stream();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE(read_until(&cc, "first"));
    tc_close(&cc);
    CU_ASSERT_TRUE(wait_count(&closes, 1, 3000));
    CU_ASSERT_EQUAL(pnk_http_stream_write(st, "late", 4), -1);
    pnk_http_stream_close(st); /* the owner's reference, after on_close */
}

static void
test_head_stream(void)
{
    reset();
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "HEAD /s HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    pnk_http_stream_t *st = wait_stream();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE(until_eof(&cc, 3000));
    CU_ASSERT_PTR_NOT_NULL(strstr(cc.buf, "HTTP/1.1 200 OK\r\n"));
    CU_ASSERT_PTR_NULL(strstr(cc.buf, "first"));
    CU_ASSERT_TRUE(wait_count(&closes, 1, 3000));
    pnk_http_stream_close(st);
    tc_close(&cc);
}

typedef struct flood {
    pnk_http_stream_t *st;
    size_t accepted; /* bytes write took before failing */
    bool failed;
} flood_t;

static void *
flood_thread(void *arg)
{
    flood_t *f = arg;
    static char block[1024];

    memset(block, 'x', sizeof block);
    /* 16 MiB at most: an unbounded server would take all of it. */
    for (int i = 0; i < 16 * 1024; i++) {
        if (pnk_http_stream_write(f->st, block, sizeof block) != 0) {
            f->failed = true;
            break;
        }
        f->accepted += sizeof block;
        usleep(300); /* let the loop move bytes on, so the kernel buffers fill too */
    }
    return NULL;
}

/* A client that sends its request and never reads: the server takes a bounded amount (its
 * cap plus the two kernel buffers), then drops the stream and runs on_close. */
static void
test_slow_consumer_dropped(void)
{
    reset();
    int rcv = 4096;
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    setsockopt(cc.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /small HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    flood_t f = {.st = wait_stream()};
    CU_ASSERT_PTR_NOT_NULL_FATAL(f.st);
    pnk_http_stats_t before, after;
    pnk_http_server_stats(srv->s, &before);
    pthread_t t;
    pthread_create(&t, NULL, flood_thread, &f);
    pthread_join(t, NULL);
    CU_ASSERT_TRUE(f.failed);
    /* Cap 8 KiB + the server's send buffer (2 x 32 KiB) + the client's small receive buffer:
     * about 60 KiB in practice, against 16 MiB offered. */
    CU_ASSERT(f.accepted < 1024 * 1024);
    CU_ASSERT_TRUE(wait_count(&closes, 1, 3000));
    pnk_http_server_stats(srv->s, &after);
    CU_ASSERT_EQUAL(after.streams_dropped, before.streams_dropped + 1);
    CU_ASSERT_EQUAL(after.streams_open, 0);
    CU_ASSERT_EQUAL(pnk_http_stream_write(f.st, "x", 1), -1);
    pnk_http_stream_close(f.st);
    /* The client sees the end after whatever was already in flight. */
    CU_ASSERT_TRUE(until_eof(&cc, 5000));
    tc_close(&cc);
    CU_ASSERT_EQUAL(tc_get_status(srv->port, "/plain"), 200);
}

/* A graceful stop ends open streams at once (well under the 20 s grace): the client gets what
 * was written and the last chunk. */
static void
test_stop_ends_streams(void)
{
    reset();
    running_t *r = start(20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, r->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /s HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    pnk_http_stream_t *st = wait_stream();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_TRUE(read_until(&cc, "first"));
    CU_ASSERT_EQUAL(pnk_http_stream_write(st, "last", 4), 0);
    int ms = stop(r, 10000);
    CU_ASSERT(ms >= 0 && ms < 3000);
    CU_ASSERT_TRUE(until_eof(&cc, 3000));
    CU_ASSERT_PTR_NOT_NULL(strstr(cc.buf, "4\r\nlast\r\n0\r\n\r\n"));
    tc_close(&cc);
    CU_ASSERT_EQUAL(atomic_load(&closes), 1);
    CU_ASSERT_EQUAL(pnk_http_stream_write(st, "x", 1), -1);
    pnk_http_stream_close(st);
}

/* A stream opened while the server stops: head, what was written, the end. */
static void
test_stream_never_blocks_stop_without_reader(void)
{
    reset();
    running_t *r = start(1);
    int rcv = 4096;
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, r->port, 3000), 0);
    setsockopt(cc.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /s HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    pnk_http_stream_t *st = wait_stream();
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    static char block[4096];
    memset(block, 'y', sizeof block);
    for (int i = 0; i < 40; i++) /* 160 KiB: more than the kernel buffers hold */
        pnk_http_stream_write(st, block, sizeof block);
    usleep(200000);
    /* The client never reads: the flush cannot finish, and the 1 s grace cuts it. */
    int ms = stop(r, 10000);
    CU_ASSERT(ms >= 0 && ms < 4000);
    CU_ASSERT_EQUAL(atomic_load(&closes), 1);
    pnk_http_stream_close(st);
    tc_close(&cc);
}

static int
suite_init(void)
{
    srv = start(3);
    return srv ? 0 : -1;
}

static int
suite_clean(void)
{
    return srv == NULL || stop(srv, 10000) >= 0 ? 0 : -1;
}

void
register_stream_tests(void)
{
    CU_pSuite s = CU_add_suite("http_stream", suite_init, suite_clean);
    CU_add_test(s, "chunked stream from another thread", test_chunked_stream);
    CU_add_test(s, "HTTP/1.0 stream is close-delimited", test_http10_stream);
    CU_add_test(s, "client leaving runs on_close", test_client_leaves);
    CU_add_test(s, "write after the end fails", test_write_after_end_fails);
    CU_add_test(s, "HEAD gets the head only", test_head_stream);
    CU_add_test(s, "slow consumer dropped, bounded", test_slow_consumer_dropped);
    CU_pSuite s2 = CU_add_suite("http_stream_lifecycle", NULL, NULL);
    CU_add_test(s2, "stop ends streams at once", test_stop_ends_streams);
    CU_add_test(s2, "stop with a stuck reader is bounded",
                test_stream_never_blocks_stop_without_reader);
}
