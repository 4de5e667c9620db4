/* libcurl calls to the server with token, retries, backoff and the backend breaker. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "curlload.h"
#include "jwt.h"
#include "retry.h"

#define MAX_BODY (8u << 20)

struct pnw_api {
    char *base, *secret, *iss, *aud, *sub;
    int ttl, retries;
    double timeout, backoff;
    pnw_breakers_t *breakers;
    pthread_mutex_t mu;
    char *token;
    long token_exp;
};

static __thread CURL *thread_curl;

static void nap(double s, volatile int *stop);

pnw_api_t *
pnw_api_new(const pnw_config_t *c, pnw_breakers_t *b)
{
    pnw_api_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    size_t bl = strlen(c->server_url);
    a->base = strndup(c->server_url, bl && c->server_url[bl - 1] == '/' ? bl - 1 : bl);
    a->secret = strdup(c->token_secret);
    a->iss = strdup(c->token_issuer);
    a->aud = strdup(c->token_audience);
    a->sub = strdup(c->name);
    a->ttl = c->token_ttl;
    a->retries = c->api_retries;
    a->timeout = c->api_timeout;
    a->backoff = c->api_backoff;
    a->breakers = b;
    pthread_mutex_init(&a->mu, NULL);
    return a;
}

void
pnw_api_free(pnw_api_t *a)
{
    if (!a)
        return;
    free(a->base), free(a->secret), free(a->iss), free(a->aud), free(a->sub), free(a->token);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

void
pnw_api_thread_done(void)
{
    if (thread_curl) /* made by a loaded libcurl */
        pnw_curl(NULL, 0)->easy_cleanup(thread_curl);
    thread_curl = NULL;
}

char *
pnw_api_token(pnw_api_t *a)
{
    long now = (long)time(NULL);
    char *copy = NULL;
    pthread_mutex_lock(&a->mu);
    if (!a->token || now > a->token_exp - a->ttl / 5) {
        char *t = pnw_jwt_service(a->secret, a->iss, a->aud, a->sub, now, a->ttl);
        if (t) {
            free(a->token);
            a->token = t;
            a->token_exp = now + a->ttl;
        }
    }
    if (a->token)
        copy = strdup(a->token);
    pthread_mutex_unlock(&a->mu);
    return copy;
}

typedef struct {
    char *buf;
    size_t len;
    bool over;
    double retry_after;
    const pnw_api_req_t *rq;
    const pnw_curl_t *C; /* libcurl, opened (the callbacks use it) */
    CURL *curl;
    uint64_t filed;   /* bytes written to rq->sink_fd */
    bool too_big;     /* over rq->sink_max: fail without retrying */
    bool write_error; /* the sink file could not be written */
    uint64_t sent;    /* bytes of rq->source_fd sent */
    bool read_error;  /* the source file could not be read (shrank?) */
    bool too_long;    /* URL or a header did not fit its buffer: fail without retrying */
    bool range_done;  /* rq->range_len bytes are in: the rest of a 200 answer is not wanted */
} sink_t;

/* A 2xx body of a download goes to the file; anything else (an error envelope) to memory. */
static size_t
to_file(sink_t *s, const char *p, size_t add)
{
    size_t want = add;
    if (s->rq->range_len && s->filed + add > s->rq->range_len)
        want = (size_t)(s->rq->range_len - s->filed); /* a server that ignored the Range */
    if (s->rq->sink_max && s->filed + want > s->rq->sink_max) {
        s->too_big = true;
        return 0;
    }
    for (size_t off = 0; off < want;) {
        ssize_t w = write(s->rq->sink_fd, p + off, want - off);
        if (w <= 0) {
            s->write_error = true;
            return 0;
        }
        off += (size_t)w;
    }
    s->filed += want;
    if (want == add)
        return add;
    s->range_done = true; /* only now: a failure above must stay a failure */
    return 0;             /* ends the transfer: the head is all that was asked */
}

static size_t
on_body(char *p, size_t sz, size_t n, void *ud)
{
    sink_t *s = ud;
    size_t add = sz * n;
    if (s->rq->sink) {
        long st = 0;
        s->C->easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &st);
        if (st >= 200 && st < 300)
            return to_file(s, p, add);
    }
    if (s->len + add > MAX_BODY) {
        s->over = true;
        return 0;
    }
    char *nb = realloc(s->buf, s->len + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + s->len, p, add);
    s->buf = nb;
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *ud)
{
    sink_t *s = ud;
    size_t len = sz * n;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
        s->retry_after = atof(p + 12);
    return len;
}

static size_t
on_read(char *p, size_t sz, size_t n, void *ud)
{
    sink_t *s = ud;
    size_t want = sz * n;
    if (s->sent >= s->rq->source_len)
        return 0;
    if (want > s->rq->source_len - s->sent)
        want = (size_t)(s->rq->source_len - s->sent);
    ssize_t r = pread(s->rq->source_fd, p, want, (off_t)s->sent);
    if (r <= 0) { /* the file shrank or failed under us: an error, not a short body */
        s->read_error = true;
        return CURL_READFUNC_ABORT;
    }
    s->sent += (uint64_t)r;
    return (size_t)r;
}

static int
on_seek(void *ud, curl_off_t off, int origin)
{
    sink_t *s = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > s->rq->source_len)
        return CURL_SEEKFUNC_CANTSEEK;
    s->sent = (uint64_t)off;
    return CURL_SEEKFUNC_OK;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
retryable(long st)
{
    return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* One HTTP exchange. 0 when an answer arrived (any status), -1 on transport failure. */
static int
exchange(pnw_api_t *a, const pnw_api_req_t *rq, const char *body, double timeout, sink_t *s,
         long *status, char *why, size_t whylen)
{
    /* libcurl is opened and started on the first call (curlload.h). */
    const pnw_curl_t *C = pnw_curl(why, whylen);
    if (!C)
        return -1;
    if (!thread_curl && !(thread_curl = C->easy_init())) {
        (void)snprintf(why, whylen, "curl_easy_init failed");
        return -1;
    }
    CURL *c = thread_curl;
    char url[2048], auth[4096], idem[300];
    struct curl_slist *h = NULL;
    char *tok = pnw_api_token(a);
    if (!tok) {
        (void)snprintf(why, whylen, "cannot sign a service token (WORKER_SERVICE_TOKEN unset?)");
        return -1;
    }
    int nu = snprintf(url, sizeof url, "%s%s", a->base, rq->path);
    int na = snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    free(tok);
    /* A cut URL or header would reach another route or fail with a misleading answer. */
    if (nu < 0 || (size_t)nu >= sizeof url || na < 0 || (size_t)na >= sizeof auth) {
        s->too_long = true;
        (void)snprintf(why, whylen, "%s %.200s: URL or token too long", rq->method, rq->path);
        return -1;
    }
    h = C->slist_append(h, auth);
    h = C->slist_append(h, "Accept: application/json");
    if (body)
        h = C->slist_append(h, "Content-Type: application/json");
    char ctype[300];
    if (rq->source) {
        int n = snprintf(ctype, sizeof ctype, "Content-Type: %s",
                         rq->content_type ? rq->content_type : "application/octet-stream");
        if (n < 0 || (size_t)n >= sizeof ctype) {
            C->slist_free_all(h);
            s->too_long = true;
            (void)snprintf(why, whylen, "%s %.200s: content type too long", rq->method, rq->path);
            return -1;
        }
        h = C->slist_append(h, ctype);
        /* The server reads bodies whole; waiting for a 100 Continue only adds a second. */
        h = C->slist_append(h, "Expect:");
    }
    if (rq->idem_key) {
        int n = snprintf(idem, sizeof idem, "Idempotency-Key: %s", rq->idem_key);
        if (n < 0 || (size_t)n >= sizeof idem) { /* a cut key could match another request's */
            C->slist_free_all(h);
            s->too_long = true;
            (void)snprintf(why, whylen, "%s %.200s: Idempotency-Key too long", rq->method,
                           rq->path);
            return -1;
        }
        h = C->slist_append(h, idem);
    }
    C->easy_reset(c);
    C->easy_setopt(c, CURLOPT_URL, url);
    C->easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    C->easy_setopt(c, CURLOPT_HTTPHEADER, h);
    C->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    C->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    C->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    C->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout < 5 ? timeout * 1000 : 5000));
    if (rq->sink || rq->source) {
        C->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        C->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)(a->timeout < 1 ? 1 : a->timeout));
    }
    C->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    C->easy_setopt(c, CURLOPT_WRITEDATA, s);
    C->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    C->easy_setopt(c, CURLOPT_HEADERDATA, s);
    s->rq = rq;
    s->C = C, s->curl = c;
    if (rq->sink) {
        /* A retry starts the file over. */
        if (ftruncate(rq->sink_fd, 0) != 0 || lseek(rq->sink_fd, 0, SEEK_SET) != 0) {
            C->slist_free_all(h);
            (void)snprintf(why, whylen, "%s %s: cannot truncate the destination file", rq->method,
                           rq->path);
            s->write_error = true;
            return -1;
        }
        s->filed = 0;
        s->range_done = false;
        if (rq->range_len) {
            char range[48];
            (void)snprintf(range, sizeof range, "0-%llu", (unsigned long long)(rq->range_len - 1));
            C->easy_setopt(c, CURLOPT_RANGE, range); /* libcurl copies the string */
        }
    }
    if (rq->source) {
        s->sent = 0;
        C->easy_setopt(c, CURLOPT_POST, 1L);
        C->easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        C->easy_setopt(c, CURLOPT_READDATA, s);
        C->easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        C->easy_setopt(c, CURLOPT_SEEKDATA, s);
        C->easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->source_len);
    } else if (body) {
        C->easy_setopt(c, CURLOPT_POSTFIELDS, body);
        C->easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        C->easy_setopt(c, CURLOPT_POSTFIELDS, "");
        C->easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode rc = C->easy_perform(c);
    C->slist_free_all(h);
    if (rc == CURLE_WRITE_ERROR && s->range_done)
        rc = CURLE_OK; /* we cut a 200 answer after the head we asked for */
    if (rc != CURLE_OK) {
        char cap[64];
        (void)snprintf(cap, sizeof cap, "content larger than %llu bytes",
                       (unsigned long long)rq->sink_max);
        (void)snprintf(why, whylen, "%s %s: %s", rq->method, rq->path,
                       s->too_big       ? cap
                       : s->write_error ? "cannot write the destination file"
                       : s->read_error  ? "cannot read the source file"
                       : s->over        ? "answer larger than 8 MiB"
                                        : C->easy_strerror(rc));
        return -1;
    }
    C->easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

static void
nap(double s, volatile int *stop)
{
    /* In slices, so a shutting-down worker does not sit in a backoff. */
    while (s > 0 && !(stop && *stop)) {
        double d = s < 0.05 ? s : 0.05;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
        s -= d;
    }
}

int
pnw_api_call(pnw_api_t *a, const pnw_api_req_t *rq, long *status, json_t **reply, char *why,
             size_t whylen)
{
    char *body = rq->body ? json_dumps(rq->body, JSON_COMPACT) : NULL;
    int attempts = a->retries + 1, rc = -1;
    *status = 0;
    if (reply)
        *reply = NULL;
    if (rq->body && !body) {
        (void)snprintf(why, whylen, "request body cannot be encoded");
        return -1;
    }
    for (int i = 0; i < attempts; i++) {
        double now = now_s();
        double timeout = a->timeout;
        /* A file may take longer than a JSON call: up to the job's deadline, with a stall
         * guard (exchange) instead of the per-call limit. */
        if ((rq->sink || rq->source) && rq->deadline > 0)
            timeout = rq->deadline - now;
        if (rq->deadline > 0 && rq->deadline - now < timeout)
            timeout = rq->deadline - now;
        if (timeout <= 0.01) {
            (void)snprintf(why, whylen, "%s %s: job time limit reached", rq->method, rq->path);
            break;
        }
        /* While the one half-open probe is out, wait for its outcome (up to 5 s) rather than
         * failing an attempt the probe may show was unnecessary. */
        for (int w = 0; a->breakers && w < 100 && pnw_breaker_probing(a->breakers, "backend") &&
                        !(rq->stop && *rq->stop) && (rq->deadline <= 0 || now_s() < rq->deadline);
             w++)
            nap(0.05, rq->stop);
        now = now_s();
        if (a->breakers && !pnw_breaker_allow(a->breakers, "backend", now)) {
            (void)snprintf(why, whylen, "%s %s: circuit open for backend", rq->method, rq->path);
            break;
        }
        sink_t s = {0};
        long st = 0;
        int ok = exchange(a, rq, body, timeout, &s, &st, why, whylen);
        /* Our own limits and disk are not the server's fault: no retry, breaker untouched. */
        if (ok != 0 && (s.too_big || s.write_error || s.read_error || s.too_long)) {
            free(s.buf);
            break;
        }
        bool transient = ok != 0 || retryable(st);
        if (a->breakers)
            pnw_breaker_report(a->breakers, "backend", !transient, now_s());
        if (!transient) {
            *status = st;
            if (reply && s.buf)
                *reply = json_loadb(s.buf, s.len, 0, NULL);
            free(s.buf);
            rc = 0;
            break;
        }
        *status = st;
        if (ok == 0)
            (void)snprintf(why, whylen, "%s %s: HTTP %ld after %d attempt%s", rq->method, rq->path,
                           st, i + 1, i ? "s" : "");
        free(s.buf);
        if (i + 1 < attempts) {
            double d = a->backoff * (double)(1u << (i < 10 ? i : 10));
            d *= 0.5 + (double)pnw_clock_system.rand_below(NULL, 1000) / 1000.0;
            if (s.retry_after > d)
                d = s.retry_after > 30 ? 30 : s.retry_after;
            if (rq->deadline > 0 && now_s() + d > rq->deadline)
                d = rq->deadline - now_s();
            nap(d, rq->stop);
            if (rq->stop && *rq->stop) {
                (void)snprintf(why + strlen(why), whylen - strlen(why), "; worker stopping");
                break;
            }
        }
    }
    free(body);
    return rc;
}
