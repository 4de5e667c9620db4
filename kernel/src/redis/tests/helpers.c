/* Test helpers: the Redis under test and throwaway redis-server processes on loopback. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../redis.h"
#include "helpers.h"

const char *
th_env_url(void)
{
    const char *u = getenv("PN_TEST_REDIS_URL");
    if (!u || !*u) {
        fprintf(stderr,
                "FAIL: PN_TEST_REDIS_URL is not set. These tests need a real Redis, "
                "e.g. PN_TEST_REDIS_URL=redis://127.0.0.1:56999/0 (databases %d and %d "
                "are used and cleaned).\n",
                TH_CACHE_DB, TH_QUEUE_DB);
        return NULL;
    }
    return u;
}

int
th_url_with_db(const char *url, int db, char *out, size_t cap)
{
    int n;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *q = strchr(url, '?');
        const char *pw = q ? strstr(q, "password=") : NULL;
        size_t pwlen = pw ? strcspn(pw, "&") : 0;
        n = snprintf(out, cap, "%.*s?db=%d%s%.*s", (int)(q ? (size_t)(q - url) : strlen(url)), url,
                     db, pw ? "&" : "", (int)pwlen, pw ? pw : "");
    } else {
        const char *hp = strstr(url, "://");
        if (!hp)
            return -1;
        const char *slash = strchr(hp + 3, '/');
        size_t keep = slash ? (size_t)(slash - url) : strlen(url);
        n = snprintf(out, cap, "%.*s/%d", (int)keep, url, db);
    }
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int
th_init(void)
{
    const char *u = th_env_url();
    char cache[512], queue[512], err[256] = "";
    if (!u || th_url_with_db(u, TH_CACHE_DB, cache, sizeof cache) != 0 ||
        th_url_with_db(u, TH_QUEUE_DB, queue, sizeof queue) != 0)
        return -1;
    pnk_redis_config_t cfg = {.url = cache, .queue_url = queue, .timeout = 2.0};
    if (pnk_redis_init(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "pnk_redis_init failed: %s\n", err);
        return -1;
    }
    return 0;
}

double
th_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
th_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int
th_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int
th_direct(int port, const char *password, const char *cmd, char *out, size_t cap)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int rc = -1;
    if (!c || c->err)
        goto done;
    redisSetTimeout(c, tv);
    if (password) {
        redisReply *a = redisCommand(c, "AUTH %s", password);
        int ok = a && a->type != REDIS_REPLY_ERROR;
        if (a)
            freeReplyObject(a);
        if (!ok)
            goto done;
    }
    redisReply *r = redisCommand(c, cmd);
    if (r) {
        if (out && cap)
            snprintf(out, cap, "%s", r->str ? r->str : "");
        rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
        freeReplyObject(r);
    }
done:
    if (c)
        redisFree(c);
    return rc;
}

static bool
alive(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WNOHANG) == 0;
}

pid_t
th_redis_start_on(int port, const char *const *extra)
{
    char portbuf[16], logfile[64];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    /* Its log goes to a file: start-up banners would bury the test output. */
    snprintf(logfile, sizeof logfile, "/tmp/pn-redis-test-%d.log", port);
    const char *argv[64] = {"redis-server", "--port", portbuf,        "--bind",     "127.0.0.1",
                            "--save",       "",       "--appendonly", "no",         "--daemonize",
                            "no",           "--dir",  "/tmp",         "--loglevel", "warning",
                            "--logfile",    logfile};
    size_t n = 17;
    for (size_t i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *const *av;
        memcpy(&av, &(const char *const *){argv}, sizeof av); /* execvp's historic signature */
        execvp("redis-server", av);
        _exit(127);
    }
    /* Ready means: our process is alive and answers on the port (bounded, ~5 s). */
    for (int i = 0; i < 250; i++) {
        if (!alive(pid))
            return -1;
        redisContext *c = redisConnect("127.0.0.1", port);
        bool up = c && !c->err;
        if (c)
            redisFree(c);
        if (up)
            return pid;
        th_sleep_ms(20);
    }
    th_redis_stop(pid);
    return -1;
}

pid_t
th_redis_start(int *port, const char *const *extra)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        int p = th_free_port();
        if (p <= 0)
            continue;
        pid_t pid = th_redis_start_on(p, extra);
        if (pid > 0) {
            *port = p;
            return pid;
        }
    }
    fprintf(stderr, "could not start a throwaway redis-server\n");
    return -1;
}

void
th_redis_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 250; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return;
        th_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}
