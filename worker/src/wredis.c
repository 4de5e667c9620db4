/* hiredis connections for the worker: URL parsing, reconnect on failure, scripts by SHA. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cryptoload.h"
#include "wredis.h"

struct pnw_redis {
    pnw_redis_addr_t addr;
    double timeout;
    redisContext *c;
    char err[256];
};

/* "redis url <url>: <what>" */
static void
seterr(char *err, size_t len, const char *url, const char *what)
{
    /* Never echo a password. */
    (void)snprintf(err, len, "redis url %s: %s", strchr(url, '@') ? "(with credentials)" : url,
                   what);
}

/* Percent-decoding for user and password. */
static int
pct_copy(char *dst, size_t dlen, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            if (i + 2 >= n)
                return -1;
            char hex[3] = {s[i + 1], s[i + 2], 0}, *end;
            long v = strtol(hex, &end, 16);
            if (*end != '\0')
                return -1;
            ch = (char)v;
            i += 2;
        }
        if (o + 1 >= dlen)
            return -1;
        dst[o++] = ch;
    }
    dst[o] = '\0';
    return 0;
}

static int
parse_one(const char *url, pnw_redis_addr_t *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7, *q = strchr(p, '?');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || n >= sizeof a->path) {
            seterr(err, errlen, url, "bad socket path");
            return -1;
        }
        memcpy(a->path, p, n);
        if (q && strncmp(q, "?db=", 4) == 0)
            a->db = atoi(q + 4);
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        seterr(err, errlen, url, "must start with redis:// or unix://");
        return -1;
    }
    const char *p = url + 8, *end = p + strcspn(p, "/");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *uend = colon ? colon : at;
        if (pct_copy(a->user, sizeof a->user, p, (size_t)(uend - p)) != 0 ||
            (colon &&
             pct_copy(a->password, sizeof a->password, colon + 1, (size_t)(at - colon - 1)) != 0)) {
            seterr(err, errlen, url, "bad credentials");
            return -1;
        }
        p = at + 1;
    }
    const char *colon = memchr(p, ':', (size_t)(end - p));
    size_t hl = (size_t)((colon ? colon : end) - p);
    if (hl == 0 || hl >= sizeof a->host) {
        seterr(err, errlen, url, "no host");
        return -1;
    }
    memcpy(a->host, p, hl);
    if (colon) {
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != end || port < 1 || port > 65535) {
            seterr(err, errlen, url, "bad port");
            return -1;
        }
        a->port = (int)port;
    }
    if (*end == '/' && end[1]) {
        char *e;
        long db = strtol(end + 1, &e, 10);
        if (*e != '\0' || db < 0 || db > 1000) {
            seterr(err, errlen, url, "bad database number");
            return -1;
        }
        a->db = (int)db;
    }
    return 0;
}

int
pnw_redis_addr_parse(const char *url, const char *queue_url, pnw_redis_addr_t *out, char *err,
                     size_t errlen)
{
    if (queue_url && *queue_url)
        return parse_one(queue_url, out, err, errlen);
    if (parse_one(url, out, err, errlen) != 0)
        return -1;
    out->db = 1;
    return 0;
}

pnw_redis_t *
pnw_redis_new(const pnw_redis_addr_t *a, double timeout)
{
    pnw_redis_t *r = calloc(1, sizeof *r);
    if (r) {
        r->addr = *a;
        r->timeout = timeout > 0 ? timeout : 2;
    }
    return r;
}

void
pnw_redis_free(pnw_redis_t *r)
{
    if (!r)
        return;
    if (r->c)
        redisFree(r->c);
    free(r);
}

const char *
pnw_redis_error(const pnw_redis_t *r)
{
    return r->err;
}

static struct timeval
tv_of(double s)
{
    struct timeval tv = {(time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6)};
    return tv;
}

static void
drop(pnw_redis_t *r, const char *why)
{
    (void)snprintf(r->err, sizeof r->err, "%s", why);
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
}

static int
ensure(pnw_redis_t *r)
{
    if (r->c)
        return 0;
    struct timeval tv = tv_of(r->timeout);
    r->c = r->addr.path[0] ? redisConnectUnixWithTimeout(r->addr.path, tv)
                           : redisConnectWithTimeout(r->addr.host, r->addr.port, tv);
    if (!r->c || r->c->err) {
        drop(r, r->c ? r->c->errstr : "out of memory");
        return -1;
    }
    redisSetTimeout(r->c, tv);
    redisReply *rep = NULL;
    if (r->addr.password[0]) {
        rep = r->addr.user[0] ? redisCommand(r->c, "AUTH %s %s", r->addr.user, r->addr.password)
                              : redisCommand(r->c, "AUTH %s", r->addr.password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            drop(r, rep ? "AUTH refused" : r->c->errstr);
            if (rep)
                freeReplyObject(rep);
            return -1;
        }
        freeReplyObject(rep);
    }
    if (r->addr.db) {
        rep = redisCommand(r->c, "SELECT %d", r->addr.db);
        if (!rep || rep->type == REDIS_REPLY_ERROR) {
            drop(r, rep ? "SELECT refused" : r->c->errstr);
            if (rep)
                freeReplyObject(rep);
            return -1;
        }
        freeReplyObject(rep);
    }
    return 0;
}

redisReply *
pnw_redis_cmd(pnw_redis_t *r, int argc, const char **argv, const size_t *lens)
{
    /* One reconnect attempt: a connection closed by a Redis restart fails the first write. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ensure(r) != 0)
            return NULL;
        redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
        if (rep) {
            if (rep->type == REDIS_REPLY_ERROR)
                (void)snprintf(r->err, sizeof r->err, "%s", rep->str);
            return rep;
        }
        drop(r, r->c->errstr[0] ? r->c->errstr : "connection lost");
    }
    return NULL;
}

redisReply *
pnw_redis_cmdf(pnw_redis_t *r, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ensure(r) != 0)
            return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *rep = redisvCommand(r->c, fmt, ap);
        va_end(ap);
        if (rep) {
            if (rep->type == REDIS_REPLY_ERROR)
                (void)snprintf(r->err, sizeof r->err, "%s", rep->str);
            return rep;
        }
        drop(r, r->c->errstr[0] ? r->c->errstr : "connection lost");
    }
    return NULL;
}

redisReply *
pnw_redis_cmd_block(pnw_redis_t *r, double block_s, int argc, const char **argv, const size_t *lens)
{
    if (ensure(r) != 0)
        return NULL;
    redisSetTimeout(r->c, tv_of(block_s + r->timeout));
    redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
    if (!rep) {
        drop(r, r->c->errstr[0] ? r->c->errstr : "connection lost");
        return NULL;
    }
    redisSetTimeout(r->c, tv_of(r->timeout));
    return rep;
}

/* The script's SHA-1 as EVALSHA wants it. 0, or -1 when libcrypto cannot be opened. */
static int
sha_of(pnw_script_t *s)
{
    unsigned char d[20];
    if (pnw_sha1(s->src, strlen(s->src), d) != 0)
        return -1;
    for (size_t i = 0; i < sizeof d; i++)
        (void)snprintf(s->sha + 2 * i, 3, "%02x", d[i]);
    return 0;
}

redisReply *
pnw_redis_eval(pnw_redis_t *r, pnw_script_t *s, int nkeys, int argc, const char **argv,
               const size_t *lens)
{
    /* Without a SHA-1 the script is sent whole (EVAL), as after NOSCRIPT. */
    bool by_sha = s->sha[0] || sha_of(s) == 0;
    int n = argc + 3;
    const char *stackv[64];
    size_t stackl[64];
    const char **v = n <= 64 ? stackv : malloc((size_t)n * sizeof *v);
    size_t *l = n <= 64 ? stackl : malloc((size_t)n * sizeof *l);
    redisReply *rep = NULL;
    char nk[16];
    if (!v || !l)
        goto out;
    (void)snprintf(nk, sizeof nk, "%d", nkeys);
    if (by_sha)
        v[0] = "EVALSHA", l[0] = 7, v[1] = s->sha, l[1] = 40;
    else
        v[0] = "EVAL", l[0] = 4, v[1] = s->src, l[1] = strlen(s->src);
    v[2] = nk, l[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        v[i + 3] = argv[i];
        l[i + 3] = lens ? lens[i] : strlen(argv[i]);
    }
    rep = pnw_redis_cmd(r, n, v, l);
    if (by_sha && rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(rep);
        v[0] = "EVAL", l[0] = 4;
        v[1] = s->src, l[1] = strlen(s->src);
        rep = pnw_redis_cmd(r, n, v, l);
    }
out:
    if (v != stackv)
        free(v);
    if (l != stackl)
        free(l);
    return rep;
}
