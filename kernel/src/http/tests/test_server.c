/*
 * The server over real loopback sockets: a tiny app (per-path body caps, an echo handler, a
 * 300 ms /slow path), then normal use, pipelining, HEAD, limits, smuggling with a canary,
 * slow heads, the connection cap, a full queue and a graceful stop. Every wait is bounded.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../http.h"
#include "smuggle_corpus.h"
#include "test_client.h"

void register_server_tests(void);

static atomic_int done_calls, done_with_resp;
static atomic_bool slower_done; /* the 1 s handler finished */

#define BIG_LEN (200 * 1024)
#define FILE_LEN 150000
#define HUGE_LEN (9 * 1024 * 1024) /* over the loop's 4 MiB read budget per wake-up */
static char file_path[64];

static int
app_on_head(void *ud, pnk_http_request_t *req, size_t *max_body, const char **message)
{
    (void)ud;
    if (strcmp(req->path, "/small") == 0)
        *max_body = 10;
    if (strcmp(req->path, "/huge") == 0)
        *max_body = HUGE_LEN;
    if (strcmp(req->path, "/refuse") == 0) {
        *message = "refused by on_head";
        return 403;
    }
    return 0;
}

static void
app_handle(void *ud, pnk_http_request_t *req, pnk_http_response_t *resp)
{
    (void)ud;
    if (strcmp(req->path, "/slow") == 0) {
        struct timespec ts = {0, 300 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (strcmp(req->path, "/slower") == 0) {
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        atomic_store(&slower_done, true);
    }
    uint32_t sum = 2166136261u; /* FNV-1a of the body, so tests can check every byte */
    for (size_t i = 0; i < req->body_len; i++)
        sum = (sum ^ (unsigned char)req->body[i]) * 16777619u;
    char *body =
        pnk_arena_printf(req->arena, "{\"method\":\"%s\",\"path\":\"%s\",\"body_len\":%zu}",
                         req->method, req->path, req->body_len);
    if (strcmp(req->path, "/huge") == 0)
        body = pnk_arena_printf(req->arena, "{\"path\":\"/huge\",\"body_len\":%zu,\"sum\":%u}",
                                req->body_len, sum);
    resp->status = 200;
    resp->body = body;
    resp->body_len = strlen(body);
    pnk_http_response_header(req, resp, "Content-Type", "application/json");
    if (strcmp(req->path, "/close") == 0)
        resp->close = true;
    if (strcmp(req->path, "/big") == 0) { /* over the inline limit: a second buffer */
        char *big = pnk_arena_alloc(req->arena, BIG_LEN);
        for (size_t i = 0; i < BIG_LEN; i++)
            big[i] = (char)('a' + i % 26);
        resp->body = big;
        resp->body_len = BIG_LEN;
    }
    if (strcmp(req->path, "/file") == 0) {
        resp->fd = open(file_path, O_RDONLY | O_CLOEXEC);
        resp->file_offset = 3;
        resp->file_len = FILE_LEN - 3;
    }
}

static void
app_on_done(void *ud, const pnk_http_request_t *req, const pnk_http_response_t *resp,
            double duration_ms)
{
    (void)ud;
    (void)req;
    (void)duration_ms;
    atomic_fetch_add(&done_calls, 1);
    if (resp)
        atomic_fetch_add(&done_with_resp, 1);
}

static const pnk_http_app_t app = {NULL, app_on_head, app_handle, app_on_done};

typedef struct running {
    pnk_http_server_t *s;
    pthread_t thread;
    int port;
    int rc;
    bool slower_done_at_return;
    atomic_bool returned;
} running_t;

static void *
run_thread(void *arg)
{
    running_t *r = arg;
    r->rc = pnk_http_server_run(r->s);
    r->slower_done_at_return = atomic_load(&slower_done);
    atomic_store(&r->returned, true);
    return NULL;
}

static running_t *
start(void (*tune)(pnk_http_limits_t *))
{
    pnk_http_limits_t l;
    char err[256];
    running_t *r = calloc(1, sizeof *r);

    pnk_http_limits_default(&l);
    l.port = 0;
    l.threads = 4;
    l.head_timeout = 1;
    l.body_timeout = 1;
    l.shutdown_grace = 3;
    if (tune)
        tune(&l);
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

/* Stop and wait at most 10 s for run to return. */
static bool
stop(running_t *r)
{
    pnk_http_server_stop(r->s);
    for (int i = 0; i < 1000 && !atomic_load(&r->returned); i++)
        usleep(10000);
    bool ok = atomic_load(&r->returned);
    if (ok) {
        pthread_join(r->thread, NULL);
        pnk_http_server_free(r->s);
    }
    free(r);
    return ok;
}

static running_t *srv; /* the shared server for most tests */
static tc_conn_t cc;
static tc_resp_t rr;

static int
suite_init(void)
{
    snprintf(file_path, sizeof file_path, "/tmp/pn-http-test-XXXXXX");
    int fd = mkstemp(file_path);
    if (fd < 0)
        return -1;
    for (int i = 0; i < FILE_LEN; i++) {
        char ch = (char)('0' + i % 10);
        if (write(fd, &ch, 1) != 1)
            return -1;
    }
    close(fd);
    srv = start(NULL);
    return srv ? 0 : -1;
}

static int
suite_clean(void)
{
    unlink(file_path);
    return srv == NULL || stop(srv) ? 0 : -1;
}

static void
assert_served(void)
{
    CU_ASSERT_EQUAL(tc_get_status(srv->port, "/alive"), 200);
}

static void
test_get_and_post(void)
{
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /echo?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 200);
    CU_ASSERT_STRING_EQUAL(rr.body, "{\"method\":\"GET\",\"path\":\"/echo\",\"body_len\":0}");
    char v[128];
    CU_ASSERT_TRUE(tc_header(&rr, "Date", v, sizeof v));
    CU_ASSERT_TRUE(tc_header(&rr, "Content-Type", v, sizeof v) &&
                   strcmp(v, "application/json") == 0);
    CU_ASSERT_FALSE(rr.conn_close);
    /* Same connection: a POST with a body, then a chunked one. */
    CU_ASSERT_EQUAL(tc_sends(&cc, "POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n"
                                  "hello world"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"body_len\":11"));
    CU_ASSERT_EQUAL(tc_sends(&cc,
                             "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"body_len\":7"));
    /* Percent-decoded path. */
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /a%20b HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"path\":\"/a b\""));
    tc_close(&cc);
}

static int
count_open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void
test_large_bodies_and_files(void)
{
    size_t n = 300 * 1024;
    char *req = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(req);

    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    /* A 250 KiB upload arrives in many reads. */
    int k =
        snprintf(req, n, "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", 250 * 1024);
    memset(req + k, 'x', 250 * 1024);
    CU_ASSERT_EQUAL(tc_send(&cc, req, (size_t)k + 250 * 1024), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"body_len\":256000"));
    /* A 200 KiB response body. */
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.body_len, BIG_LEN);
    CU_ASSERT_EQUAL(rr.body[0], 'a');
    CU_ASSERT_EQUAL(rr.body[BIG_LEN - 1], (char)('a' + (BIG_LEN - 1) % 26));
    /* A file from an offset, then HEAD of it; the server closes the fd either way. */
    int fds_before = count_open_fds();
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /file HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.body_len, FILE_LEN - 3);
    CU_ASSERT_EQUAL(rr.body[0], '3');
    CU_ASSERT_EQUAL(rr.body[rr.body_len - 1], (char)('0' + (FILE_LEN - 1) % 10));
    CU_ASSERT_EQUAL(tc_sends(&cc, "HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n"
                                  "GET /after HTTP/1.1\r\nHost: t\r\n\r\n"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, true), 0);
    CU_ASSERT_EQUAL(rr.content_length, FILE_LEN - 3);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "/after"));
    CU_ASSERT_EQUAL(count_open_fds(), fds_before);
    tc_close(&cc);
    free(req);
}

static void
test_pipelining_in_order(void)
{
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    /* The slow one first: the fast one must still come second. */
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
                                  "POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
                                  "GET /third HTTP/1.1\r\nHost: t\r\n\r\n"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"path\":\"/slow\""));
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"path\":\"/second\",\"body_len\":2"));
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"path\":\"/third\""));
    tc_close(&cc);
}

/* Bodies over the loop's per-wake-up read budget, read straight from the socket: every byte
 * arrives in order, a body split by a pause completes, and a request pipelined right behind a
 * body is not swallowed by it. */
static void
test_huge_body_direct_read(void)
{
    char *data = malloc(HUGE_LEN), head[128], want[96];
    uint32_t sum = 2166136261u;

    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    for (size_t i = 0; i < HUGE_LEN; i++) {
        data[i] = (char)(i * 7 + i / 4099);
        sum = (sum ^ (unsigned char)data[i]) * 16777619u;
    }
    snprintf(head, sizeof head, "POST /huge HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
             HUGE_LEN);
    snprintf(want, sizeof want, "{\"path\":\"/huge\",\"body_len\":%d,\"sum\":%u}", HUGE_LEN, sum);
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 5000), 0);
    /* Whole, with the next request in the same stream. */
    CU_ASSERT_EQUAL(tc_sends(&cc, head), 0);
    CU_ASSERT_EQUAL(tc_send(&cc, data, HUGE_LEN), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /next HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_STRING_EQUAL(rr.body, want);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"path\":\"/next\",\"body_len\":0"));
    /* In pieces with pauses (the body timeout is 1 s; each pause is well under it). */
    CU_ASSERT_EQUAL(tc_sends(&cc, head), 0);
    for (size_t off = 0; off < HUGE_LEN; off += HUGE_LEN / 3) {
        size_t n = HUGE_LEN - off < HUGE_LEN / 3 ? HUGE_LEN - off : HUGE_LEN / 3;
        struct timespec ts = {0, 100 * 1000 * 1000};
        CU_ASSERT_EQUAL(tc_send(&cc, data + off, n), 0);
        nanosleep(&ts, NULL);
    }
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_STRING_EQUAL(rr.body, want);
    /* Cut short: the connection closes and nothing is answered. */
    CU_ASSERT_EQUAL(tc_sends(&cc, head), 0);
    CU_ASSERT_EQUAL(tc_send(&cc, data, HUGE_LEN / 2), 0);
    shutdown(cc.fd, SHUT_WR);
    CU_ASSERT_TRUE(tc_closed(&cc, 3000));
    tc_close(&cc);
    free(data);
}

static void
test_head_has_length_no_body(void)
{
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n"
                                  "GET /h HTTP/1.1\r\nHost: t\r\n\r\n"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, true), 0);
    CU_ASSERT_EQUAL(rr.status, 200);
    long head_len = rr.content_length;
    CU_ASSERT_EQUAL(head_len, (long)strlen("{\"method\":\"HEAD\",\"path\":\"/h\",\"body_len\":0}"));
    /* No body followed: the next bytes are the GET's status line. */
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"method\":\"GET\""));
    tc_close(&cc);
}

static void
test_http10_and_close(void)
{
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /old HTTP/1.0\r\n\r\n"), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 200);
    CU_ASSERT_TRUE(rr.conn_close);
    CU_ASSERT_TRUE(tc_closed(&cc, 2000));
    tc_close(&cc);
    /* The handler can ask for the connection to be closed. */
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /close HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_TRUE(rr.conn_close);
    CU_ASSERT_TRUE(tc_closed(&cc, 2000));
    tc_close(&cc);
}

/* Send raw, expect status, and (when close) the connection closed; then a fresh one works. */
static void
expect_refused(const char *raw, size_t len, int status, bool closes)
{
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_send(&cc, raw, len), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, status);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"success\":false"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"details\":[]"));
    char v[64];
    CU_ASSERT_FALSE(tc_header(&rr, "X-Request-Id", v, sizeof v));
    if (closes) {
        CU_ASSERT_TRUE(rr.conn_close);
        CU_ASSERT_TRUE(tc_closed(&cc, 3000));
    }
    tc_close(&cc);
    assert_served();
}

static void
test_limits_431_414(void)
{
    size_t n = 20 * 1024 + 200;
    char *big = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);

    int k = snprintf(big, n, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(big + k, 'a', 20 * 1024);
    memcpy(big + k + 20 * 1024, "\r\n\r\n", 4);
    expect_refused(big, (size_t)k + 20 * 1024 + 4, 431, true);

    k = snprintf(big, n, "GET /");
    memset(big + k, 'u', 9 * 1024);
    k += 9 * 1024;
    k += snprintf(big + k, n - (size_t)k, " HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_refused(big, (size_t)k, 414, true);

    /* 101 headers. */
    k = snprintf(big, n, "GET / HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 100; i++)
        k += snprintf(big + k, n - (size_t)k, "X-%d: v\r\n", i);
    k += snprintf(big + k, n - (size_t)k, "\r\n");
    expect_refused(big, (size_t)k, 431, true);
    free(big);
}

static void
test_413_before_body(void)
{
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    /* Only the head: the answer must come without the body being sent. */
    CU_ASSERT_EQUAL(tc_sends(&cc, "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 413);
    CU_ASSERT_TRUE(rr.conn_close);
    CU_ASSERT_TRUE(tc_closed(&cc, 3000));
    tc_close(&cc);
    assert_served();

    /* Within the cap it is served. */
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n"
                                  "0123456789"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 200);
    /* A chunked body over the cap is cut with 413 too. */
    CU_ASSERT_EQUAL(tc_sends(&cc, "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked"
                                  "\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 413);
    CU_ASSERT_TRUE(tc_closed(&cc, 3000));
    tc_close(&cc);
    assert_served();
}

static void
test_expect_continue(void)
{
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                                  "Content-Length: 4\r\n\r\n"),
                    0);
    /* The 100 arrives before we send anything more. */
    char line[32] = {0};
    size_t got = 0;
    while (got < 25) {
        ssize_t n = recv(cc.fd, line + got, 25 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    CU_ASSERT_EQUAL(got, 25);
    CU_ASSERT_STRING_EQUAL(line, "HTTP/1.1 100 Continue\r\n\r\n");
    CU_ASSERT_EQUAL(tc_sends(&cc, "data"), 0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "\"body_len\":4"));
    tc_close(&cc);

    /* Refused by on_head: no 100, the error, and the connection closed. */
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "POST /refuse HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                                  "Content-Length: 4\r\n\r\n"),
                    0);
    /* The first bytes on the wire are the 403, not a 100. */
    char first[13] = {0};
    CU_ASSERT_EQUAL(recv(cc.fd, first, 12, MSG_PEEK | MSG_WAITALL), 12);
    CU_ASSERT_STRING_EQUAL(first, "HTTP/1.1 403");
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 403);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "refused by on_head"));
    CU_ASSERT_TRUE(tc_closed(&cc, 3000));
    tc_close(&cc);
}

static void
test_cl_te_closes(void)
{
    static const char raw[] = "POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nX";
    expect_refused(raw, sizeof raw - 1, 400, true);
}

/* Each corpus request, then a canary on the same connection: the canary is answered only
 * when the first request was accepted; refusals close the connection. */
static void
test_smuggle_corpus_over_socket(void)
{
    static const char canary[] = "GET /canary HTTP/1.1\r\nHost: t\r\n\r\n";
    size_t failures = 0;

    for (size_t i = 0; i < smuggle_corpus_len; i++) {
        const smuggle_case_t *k = &smuggle_corpus[i];
        bool ok = tc_connect(&cc, srv->port, 3000) == 0 && tc_send(&cc, k->raw, k->len) == 0 &&
                  tc_send(&cc, canary, sizeof canary - 1) == 0 && tc_read(&cc, &rr, false) == 0 &&
                  rr.status == k->status;
        if (ok && k->status == 200) {
            ok = tc_read(&cc, &rr, false) == 0 && rr.status == 200 &&
                 strstr(rr.body, "/canary") != NULL;
        } else if (ok) {
            ok = rr.conn_close && tc_closed(&cc, 3000);
        }
        if (!ok) {
            fprintf(stderr, "\n  socket corpus \"%s\": want %d, got %d", k->name, k->status,
                    rr.status);
            failures++;
        }
        tc_close(&cc);
    }
    CU_ASSERT_EQUAL(failures, 0);
    assert_served();
}

static void
test_slow_head_cut(void)
{
    static const char req[] = "GET /slowloris HTTP/1.1\r\nHost: t\r\n\r\n";
    struct timespec t0, t1;

    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* One byte every 300 ms: an inactivity timeout would never fire. */
    size_t sent = 0;
    for (; sent < 10; sent++) {
        if (tc_send(&cc, req + sent, 1) != 0)
            break;
        usleep(300000);
    }
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CU_ASSERT_EQUAL(rr.status, 408);
    CU_ASSERT(took >= 0.9 && took < 3.5);
    CU_ASSERT_TRUE(tc_closed(&cc, 3000));
    tc_close(&cc);
    assert_served();

    /* A body that stalls is cut by the body timeout (1 s here). */
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, srv->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab"),
                    0);
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 408);
    CU_ASSERT_TRUE(tc_closed(&cc, 3000));
    tc_close(&cc);
}

static void
test_stats(void)
{
    pnk_http_stats_t st;

    pnk_http_server_stats(srv->s, &st);
    CU_ASSERT(st.requests_total > 10);
    CU_ASSERT(st.protocol_errors > 30);
    CU_ASSERT(st.connections_total > 10);
    CU_ASSERT_EQUAL(st.requests_queued, 0);
    CU_ASSERT(atomic_load(&done_calls) > 10);
}

static void
cap4(pnk_http_limits_t *l)
{
    l->max_connections = 4;
}

static void
test_connection_cap(void)
{
    running_t *r = start(cap4);
    tc_conn_t *c = calloc(6, sizeof *c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);

    /* Four held open, each proven accepted by a served request. */
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL_FATAL(tc_connect(&c[i], r->port, 3000), 0);
        CU_ASSERT_EQUAL(tc_sends(&c[i], "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
        CU_ASSERT_EQUAL(tc_read(&c[i], &rr, false), 0);
        CU_ASSERT_EQUAL(rr.status, 200);
    }
    /* The fifth is accepted by the kernel and closed by us at once. */
    CU_ASSERT_EQUAL_FATAL(tc_connect(&c[4], r->port, 3000), 0);
    CU_ASSERT_TRUE(tc_closed(&c[4], 3000));
    tc_close(&c[4]);
    pnk_http_stats_t st;
    pnk_http_server_stats(r->s, &st);
    CU_ASSERT(st.connections_refused >= 1);
    CU_ASSERT_EQUAL(st.connections_open, 4);
    /* Free one slot: a new connection is served again. */
    tc_close(&c[0]);
    bool served = false;
    for (int tries = 0; tries < 50 && !served; tries++) {
        usleep(20000);
        served = tc_get_status(r->port, "/again") == 200;
    }
    CU_ASSERT_TRUE(served);
    for (int i = 1; i < 4; i++)
        tc_close(&c[i]);
    free(c);
    CU_ASSERT_TRUE(stop(r));
}

static void
busy(pnk_http_limits_t *l)
{
    l->threads = 1;
    l->max_queue = 1;
}

static void
test_queue_full_503(void)
{
    running_t *r = start(busy);
    tc_conn_t *c = calloc(3, sizeof *c);
    int ok = 0, unavailable = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);

    /* One thread and one queue slot hold two /slow requests; the third gets 503. */
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(tc_connect(&c[i], r->port, 3000), 0);
        CU_ASSERT_EQUAL(tc_sends(&c[i], "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    }
    for (int i = 0; i < 3; i++) {
        if (tc_read(&c[i], &rr, false) == 0) {
            ok += rr.status == 200;
            unavailable += rr.status == 503;
        }
        tc_close(&c[i]);
    }
    CU_ASSERT(ok >= 1);
    CU_ASSERT(unavailable >= 1);
    CU_ASSERT_EQUAL(ok + unavailable, 3);
    free(c);
    CU_ASSERT_TRUE(stop(r));
}

static void
test_graceful_stop(void)
{
    running_t *r = start(NULL);
    tc_conn_t *idle = calloc(1, sizeof *idle);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(idle);
    int port = r->port;
    int before = atomic_load(&done_with_resp);

    CU_ASSERT_EQUAL_FATAL(tc_connect(idle, port, 3000), 0);
    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    usleep(100000); /* the request is with a handler now */
    pnk_http_server_stop(r->s);
    /* The idle connection is closed at once, the in-flight request still completes. */
    CU_ASSERT_TRUE(tc_closed(idle, 2000));
    CU_ASSERT_EQUAL_FATAL(tc_read(&cc, &rr, false), 0);
    CU_ASSERT_EQUAL(rr.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(rr.body, "/slow"));
    CU_ASSERT_TRUE(rr.conn_close);
    CU_ASSERT_TRUE(tc_closed(&cc, 2000));
    tc_close(&cc);
    tc_close(idle);
    free(idle);
    for (int i = 0; i < 300 && !atomic_load(&r->returned); i++)
        usleep(10000);
    CU_ASSERT_TRUE(atomic_load(&r->returned));
    CU_ASSERT_EQUAL(r->rc, 0);
    CU_ASSERT(atomic_load(&done_with_resp) > before);
    /* No longer listening. */
    CU_ASSERT_EQUAL(tc_get_status(port, "/after"), -1);
    CU_ASSERT_TRUE(stop(r));
}

static void
grace_short(pnk_http_limits_t *l)
{
    l->shutdown_grace = 0.1;
}

static void
test_grace_expires(void)
{
    running_t *r = start(grace_short);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);

    CU_ASSERT_EQUAL_FATAL(tc_connect(&cc, r->port, 3000), 0);
    CU_ASSERT_EQUAL(tc_sends(&cc, "GET /slower HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    usleep(100000);
    pnk_http_server_stop(r->s);
    for (int i = 0; i < 300 && !atomic_load(&r->returned); i++)
        usleep(10000);
    /* run returned at the end of the grace, before the 1 s handler finished, and the
     * client's connection was shut rather than left hanging. */
    CU_ASSERT_TRUE(atomic_load(&r->returned));
    CU_ASSERT_FALSE(r->slower_done_at_return);
    CU_ASSERT_TRUE(tc_closed(&cc, 2000));
    tc_close(&cc);
    CU_ASSERT_TRUE(stop(r)); /* free waits for the handler */
    CU_ASSERT_TRUE(atomic_load(&slower_done));
}

void
register_server_tests(void)
{
    CU_pSuite s = CU_add_suite("http_server", suite_init, suite_clean);
    CU_add_test(s, "GET and POST", test_get_and_post);
    CU_add_test(s, "large bodies and files", test_large_bodies_and_files);
    CU_add_test(s, "pipelining in order", test_pipelining_in_order);
    CU_add_test(s, "huge body read directly", test_huge_body_direct_read);
    CU_add_test(s, "HEAD has length, no body", test_head_has_length_no_body);
    CU_add_test(s, "HTTP/1.0 and close", test_http10_and_close);
    CU_add_test(s, "431 and 414", test_limits_431_414);
    CU_add_test(s, "413 before the body", test_413_before_body);
    CU_add_test(s, "Expect: 100-continue", test_expect_continue);
    CU_add_test(s, "CL+TE closes", test_cl_te_closes);
    CU_add_test(s, "smuggling corpus with canary", test_smuggle_corpus_over_socket);
    CU_add_test(s, "slow head and body cut", test_slow_head_cut);
    CU_add_test(s, "stats", test_stats);
    CU_pSuite s2 = CU_add_suite("http_server_lifecycle", NULL, NULL);
    CU_add_test(s2, "connection cap", test_connection_cap);
    CU_add_test(s2, "queue full 503", test_queue_full_503);
    CU_add_test(s2, "graceful stop", test_graceful_stop);
    CU_add_test(s2, "grace expires", test_grace_expires);
}
