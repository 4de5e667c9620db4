/* Helpers: queue database commands, input checks, paging, and the display summary of a
 * Sidekiq payload. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queues.h"

int
q_cmd(pn_req_t *req, json_t **out, int argc, const char *const *argv)
{
    json_t *r = NULL;
    int rc = pn_host_->queue_command(req, argc, argv, NULL, &r);
    if (out)
        *out = r;
    return rc;
}

int64_t
q_int(const json_t *j)
{
    if (json_is_integer(j))
        return (int64_t)json_integer_value(j);
    if (json_is_string(j))
        return strtoll(json_string_value(j), NULL, 10);
    return 0;
}

double
q_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
q_jid_ok(const char *s)
{
    if (!s || strlen(s) != 24)
        return false;
    for (int i = 0; i < 24; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Sidekiq allows any name; we accept the ones that are safe in a key and a URL. */
bool
q_queue_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static int
q_num(pn_req_t *req, const char *name, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const char *v = pn_req_query(req, name);
    *out = def;
    if (!v)
        return PN_OK;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (!*v || *end || x < min || x > max) {
        pn_fail_field(req, name, "must be an integer from %lld to %lld", (long long)min,
                      (long long)max);
        return pn_fail(req, PN_E_INVALID, "bad %s", name);
    }
    *out = x;
    return PN_OK;
}

int
q_paging(pn_req_t *req, int64_t *page, int64_t *per_page)
{
    int rc = q_num(req, "page", 1, 1, 1000000, page);
    return rc != PN_OK ? rc : q_num(req, "per_page", 25, 1, 100, per_page);
}

json_t *
q_pagination(int64_t page, int64_t per_page, int64_t total)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "current_page", (json_int_t)page, "per_page",
                     (json_int_t)per_page, "total_pages",
                     (json_int_t)((total + per_page - 1) / per_page), "total_count",
                     (json_int_t)total);
}

/* The queue database spans every account, so it is server administration. The sync grants
 * members every permission outside admin.*, so queues.* alone would let any member manage
 * every tenant's jobs; the kernel's admin.system.read is what only administrators hold. */
int
q_admin_gate(pn_req_t *req)
{
    if (!pn_host_->req_can(req, "admin.system.read"))
        return pn_fail(req, PN_E_FORBIDDEN,
                       "the job queues are server administration: admin.system.read is needed too");
    return PN_OK;
}

/* Sidekiq 6 writes seconds as floats, Sidekiq 7 milliseconds as integers. */
static double
q_secs(const json_t *j)
{
    if (!json_is_number(j))
        return -1;
    double v = json_number_value(j);
    return v > 1e11 ? v / 1000.0 : v;
}

double
q_latency(const char *payload, double now)
{
    json_t *p = payload ? json_loads(payload, 0, NULL) : NULL;
    double t = q_secs(json_object_get(p, "enqueued_at"));
    json_decref(p);
    return t < 0 ? -1 : (now > t ? now - t : 0);
}

/* A string cut to at most max bytes on a UTF-8 boundary. */
static json_t *
q_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(s, n);
}

static void
q_copy(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    json_object_set(dst, key, v ? v : json_null());
}

json_t *
q_summary(const char *payload, double score)
{
    json_t *o = json_object();
    json_t *p = payload ? json_loads(payload, 0, NULL) : NULL;
    if (!json_is_object(p)) {
        json_object_set_new(o, "jid", json_null());
        json_object_set_new(o, "invalid", json_true());
        json_t *raw = payload ? q_cut(payload, 256) : NULL;
        json_object_set_new(o, "raw", raw ? raw : json_null());
    } else {
        static const char *const keys[] = {"jid",   "class",       "wrapped",     "queue",
                                           "retry", "retry_count", "error_class", NULL};
        for (int i = 0; keys[i]; i++)
            q_copy(o, p, keys[i]);
        static const char *const times[] = {"created_at", "enqueued_at", "failed_at", "retried_at",
                                            NULL};
        for (int i = 0; times[i]; i++) {
            double t = q_secs(json_object_get(p, times[i]));
            json_object_set_new(o, times[i], t < 0 ? json_null() : json_real(t));
        }
        json_t *err = json_object_get(p, "error_message");
        json_object_set_new(o, "error_message",
                            json_is_string(err) ? q_cut(json_string_value(err), 1000)
                                                : json_null());
        char *args = json_dumps(json_object_get(p, "args"), JSON_COMPACT | JSON_ENCODE_ANY);
        json_t *a = args ? q_cut(args, 256) : NULL;
        json_object_set_new(o, "args", a ? a : json_null());
        free(args);
    }
    if (score >= 0)
        json_object_set_new(o, "at", json_real(score));
    json_decref(p);
    return o;
}
