/* Admin routes over Sidekiq's structures: queues with sizes and latency, paged queue, schedule,
 * retry and dead listings, and retry-now / delete of single entries found by jid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queues.h"

/* One round trip for every queue's name, size and oldest payload (producers LPUSH, the
 * worker takes from the right, so the oldest is at index -1). */
static const char lua_queues[] =
    "local out = {}\n"
    "for _, q in ipairs(redis.call('SMEMBERS', 'queues')) do\n"
    "  local k = 'queue:' .. q\n"
    "  out[#out + 1] = {q, redis.call('LLEN', k), redis.call('LINDEX', k, -1) or ''}\n"
    "end\n"
    "return out\n";

/* Members of a sorted set whose text contains the jid (the caller checks the field). */
static const char lua_find[] = "local found, cursor, n = {}, '0', 0\n"
                               "repeat\n"
                               "  local r = redis.call('ZSCAN', KEYS[1], cursor, 'MATCH', '*' .. "
                               "ARGV[1] .. '*', 'COUNT', 1000)\n"
                               "  cursor = r[1]\n"
                               "  for i = 1, #r[2], 2 do found[#found + 1] = r[2][i] end\n"
                               "  n = n + 1\n"
                               "until cursor == '0' or n > 100000 or #found > 16\n"
                               "return found\n";

/* The move itself: whoever removes the member pushes it; a second click finds nothing. */
static const char lua_move[] = "if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
                               "redis.call('SADD', KEYS[3], ARGV[3])\n"
                               "redis.call('LPUSH', KEYS[2], ARGV[2])\n"
                               "return 1\n";

static int
cmp_name(const void *a, const void *b)
{
    const char *x = json_string_value(json_array_get(*(json_t *const *)a, 0));
    const char *y = json_string_value(json_array_get(*(json_t *const *)b, 0));
    return strcmp(x ? x : "", y ? y : "");
}

int
q_queues_list(pn_req_t *req)
{
    json_t *r;
    int rc = q_admin_gate(req);
    if (rc != PN_OK || (rc = Q_CMD(req, &r, "EVAL", lua_queues, "0")) != PN_OK)
        return rc;
    size_t n = json_array_size(r);
    json_t **rows = pn_req_alloc(
        req,
        (n ? n : 1) * sizeof *rows); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    if (!rows)
        return pn_fail(req, PN_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        rows[i] = json_array_get(r, i);
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): array of pointers */
    qsort(rows, n, sizeof *rows, cmp_name);
    double now = q_now();
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *oldest = json_string_value(json_array_get(rows[i], 2));
        double lat = oldest && *oldest ? q_latency(oldest, now) : 0;
        json_array_append_new(out, json_pack("{s:O, s:I, s:f}", "name", json_array_get(rows[i], 0),
                                             "size", (json_int_t)q_int(json_array_get(rows[i], 1)),
                                             "latency", lat < 0 ? 0.0 : lat));
    }
    return pn_reply_ok(req, json_pack("{s:o}", "queues", out));
}

static bool
order_is(pn_req_t *req, const char *a, const char *b, bool *first, int *rc)
{
    const char *o = pn_req_query(req, "order");
    *rc = PN_OK;
    if (!o || !strcmp(o, a)) {
        *first = true;
        return true;
    }
    if (!strcmp(o, b)) {
        *first = false;
        return true;
    }
    pn_fail_field(req, "order", "must be %s or %s", a, b);
    *rc = pn_fail(req, PN_E_INVALID, "bad order");
    return false;
}

int
q_queue_jobs(pn_req_t *req)
{
    const char *name = pn_req_param(req, "name");
    int64_t page, per;
    bool newest;
    int rc = q_admin_gate(req);
    if (rc != PN_OK)
        return rc;
    if (!q_queue_ok(name)) {
        pn_fail_field(req, "name", "letters, digits, '_', '-', '.', at most 64");
        return pn_fail(req, PN_E_INVALID, "bad queue name");
    }
    if ((rc = q_paging(req, &page, &per)) != PN_OK ||
        !order_is(req, "newest", "oldest", &newest, &rc))
        return rc;
    char *key = pn_req_printf(req, "queue:%s", name);
    json_t *len, *items;
    if ((rc = Q_CMD(req, &len, "LLEN", key)) != PN_OK)
        return rc;
    int64_t total = q_int(len), off = (page - 1) * per;
    char a[32], b[32];
    if (newest) {
        (void)snprintf(a, sizeof a, "%lld", (long long)off);
        (void)snprintf(b, sizeof b, "%lld", (long long)(off + per - 1));
    } else {
        (void)snprintf(a, sizeof a, "%lld", (long long)-(off + per));
        (void)snprintf(b, sizeof b, "%lld", (long long)-(off + 1));
    }
    if ((rc = Q_CMD(req, &items, "LRANGE", key, a, b)) != PN_OK)
        return rc;
    json_t *out = json_array();
    size_t n = json_array_size(items);
    /* LRANGE with negative bounds past the start clamps, so an oldest-first page beyond the
     * end would repeat the newest entries: cut to what the page really holds. */
    int64_t want = total - off < per ? (total - off > 0 ? total - off : 0) : per;
    for (size_t i = 0; i < n && (int64_t)i < want; i++) {
        size_t k = newest ? i : n - 1 - i;
        json_array_append_new(out, q_summary(json_string_value(json_array_get(items, k)), -1));
    }
    return pn_reply_meta(req, json_pack("{s:s, s:o}", "queue", name, "jobs", out),
                         json_pack("{s:o}", "pagination", q_pagination(page, per, total)));
}

/* "scheduled" | "retries" | "dead" from the path, and its Redis key. */
static const char *
set_of(pn_req_t *req, const char **key)
{
    const char *p = pn_host_->req_path(req);
    static const char prefix[] = "/api/v1/queues/";
    if (!p || strncmp(p, prefix, sizeof prefix - 1) != 0)
        return NULL;
    p += sizeof prefix - 1;
    static const char *const names[][2] = {
        {"scheduled", "schedule"}, {"retries", "retry"}, {"dead", "dead"}};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(names[i][0]);
        if (!strncmp(p, names[i][0], n) && (p[n] == '/' || p[n] == '\0')) {
            *key = names[i][1];
            return names[i][0];
        }
    }
    return NULL;
}

int
q_set_list(pn_req_t *req)
{
    const char *key, *set = set_of(req, &key);
    int64_t page, per;
    bool asc;
    int rc = q_admin_gate(req);
    if (rc != PN_OK)
        return rc;
    if (!set)
        return pn_fail(req, PN_E_NOTFOUND, "no such set");
    /* Scheduled and retries: the next due first; dead: the most recent first. */
    bool dead = !strcmp(set, "dead");
    if ((rc = q_paging(req, &page, &per)) != PN_OK ||
        !order_is(req, dead ? "desc" : "asc", dead ? "asc" : "desc", &asc, &rc))
        return rc;
    if (dead)
        asc = !asc;
    json_t *card, *items;
    if ((rc = Q_CMD(req, &card, "ZCARD", key)) != PN_OK)
        return rc;
    int64_t off = (page - 1) * per;
    char a[32], b[32];
    (void)snprintf(a, sizeof a, "%lld", (long long)off);
    (void)snprintf(b, sizeof b, "%lld", (long long)(off + per - 1));
    if ((rc = Q_CMD(req, &items, asc ? "ZRANGE" : "ZREVRANGE", key, a, b, "WITHSCORES")) != PN_OK)
        return rc;
    json_t *out = json_array();
    for (size_t i = 0; i + 1 < json_array_size(items); i += 2) {
        const char *score = json_string_value(json_array_get(items, i + 1));
        json_array_append_new(out, q_summary(json_string_value(json_array_get(items, i)),
                                             score ? strtod(score, NULL) : -1));
    }
    return pn_reply_meta(req, json_pack("{s:s, s:o}", "set", set, "jobs", out),
                         json_pack("{s:o}", "pagination", q_pagination(page, per, q_int(card))));
}

/* The member of `key` whose payload's jid is exactly `jid`, or NULL (404 set). */
static int
find(pn_req_t *req, const char *key, const char *set, const char *jid, const char **member)
{
    json_t *found;
    int rc = Q_CMD(req, &found, "EVAL", lua_find, "1", key, jid);
    if (rc != PN_OK)
        return rc;
    for (size_t i = 0; i < json_array_size(found); i++) {
        const char *m = json_string_value(json_array_get(found, i));
        json_t *p = m ? json_loads(m, 0, NULL) : NULL;
        const char *j = json_string_value(json_object_get(p, "jid"));
        bool hit = j && !strcmp(j, jid);
        json_decref(p);
        if (hit) {
            *member = m;
            return PN_OK;
        }
    }
    return pn_fail(req, PN_E_NOTFOUND, "no job %s in %s", jid, set);
}

static int
jid_param(pn_req_t *req, const char **jid)
{
    *jid = pn_req_param(req, "jid");
    if (q_jid_ok(*jid))
        return PN_OK;
    pn_fail_field(req, "jid", "must be 24 lower-case hex digits");
    return pn_fail(req, PN_E_INVALID, "bad jid");
}

int
q_set_retry(pn_req_t *req)
{
    const char *key, *set = set_of(req, &key), *jid, *member;
    int rc = q_admin_gate(req);
    if (rc != PN_OK || (rc = jid_param(req, &jid)) != PN_OK)
        return rc;
    if (!set || !strcmp(set, "scheduled"))
        return pn_fail(req, PN_E_NOTFOUND, "no such set");
    if ((rc = find(req, key, set, jid, &member)) != PN_OK)
        return rc;
    json_t *p = pn_host_->req_keep_json(req, json_loads(member, 0, NULL));
    const char *queue = json_string_value(json_object_get(p, "queue"));
    if (!queue)
        queue = "default";
    if (!q_queue_ok(queue))
        return pn_fail(req, PN_E_INVALID, "the job's queue name is not one we push to");
    /* As Sidekiq's retry: one attempt more, so the count goes back by one (our worker refuses
     * a negative count: at 0 the field goes, which it reads as "first failure next"). */
    json_t *rcnt = json_object_get(p, "retry_count");
    if (json_is_integer(rcnt) && json_integer_value(rcnt) > 0)
        json_object_set_new(p, "retry_count", json_integer(json_integer_value(rcnt) - 1));
    else
        json_object_del(p, "retry_count");
    json_object_set_new(p, "enqueued_at", json_real(q_now()));
    char *fresh = json_dumps(p, JSON_COMPACT);
    if (!fresh)
        return pn_fail(req, PN_E_INTERNAL, "cannot encode the payload");
    char *fresh_r = pn_req_printf(req, "%s", fresh);
    free(fresh);
    char *qkey = pn_req_printf(req, "queue:%s", queue);
    json_t *moved;
    if ((rc = Q_CMD(req, &moved, "EVAL", lua_move, "3", key, qkey, "queues", member, fresh_r,
                    queue)) != PN_OK)
        return rc;
    if (q_int(moved) != 1)
        return pn_fail(req, PN_E_NOTFOUND, "job %s is no longer in %s", jid, set);
    PN_INFO("job moved back jid=%s from=%s queue=%s", jid, set, queue);
    return pn_reply_ok(req, json_pack("{s:s, s:s, s:s}", "jid", jid, "queue", queue, "from", set));
}

int
q_set_delete(pn_req_t *req)
{
    const char *key, *set = set_of(req, &key), *jid, *member;
    int rc = q_admin_gate(req);
    if (rc != PN_OK || (rc = jid_param(req, &jid)) != PN_OK)
        return rc;
    if (!set)
        return pn_fail(req, PN_E_NOTFOUND, "no such set");
    if ((rc = find(req, key, set, jid, &member)) != PN_OK)
        return rc;
    json_t *n;
    if ((rc = Q_CMD(req, &n, "ZREM", key, member)) != PN_OK)
        return rc;
    if (q_int(n) != 1)
        return pn_fail(req, PN_E_NOTFOUND, "job %s is no longer in %s", jid, set);
    PN_INFO("job deleted jid=%s from=%s", jid, set);
    return pn_reply_empty(req);
}
