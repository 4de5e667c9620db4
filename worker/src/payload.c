/* Job payload decoding and the failure payloads (Sidekiq field names and meanings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "payload.h"
#include "wrandom.h"

#define RAW_KEEP 8192

/* Nesting depth outside strings, found before parsing so a 10,000-deep payload never
 * reaches the recursive parser. */
static int
depth_over(const char *buf, size_t len, int max)
{
    int d = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++d > max)
                return 1;
        } else if (c == ']' || c == '}') {
            d--;
        }
    }
    return 0;
}

static bool
valid_class(const char *c, size_t n)
{
    if (n == 0 || n > 200)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == ':'))
            return false;
    }
    return true;
}

int
pnw_payload_decode(const char *buf, size_t len, size_t max_bytes, int max_depth, pnw_payload_t *out,
                   char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (len > max_bytes) {
        (void)snprintf(why, whylen, "payload of %zu bytes is over the limit of %zu", len,
                       max_bytes);
        return -1;
    }
    if (depth_over(buf, len, max_depth)) {
        (void)snprintf(why, whylen, "payload nested deeper than %d levels", max_depth);
        return -1;
    }
    json_error_t e;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
    if (!root) {
        (void)snprintf(why, whylen, "payload is not valid JSON (byte %d: %s)", e.position, e.text);
        return -1;
    }
    const char *bad = NULL;
    json_t *cls = json_object_get(root, "class"), *args = json_object_get(root, "args");
    json_t *jid = json_object_get(root, "jid"), *q = json_object_get(root, "queue");
    json_t *retry = json_object_get(root, "retry"), *rc = json_object_get(root, "retry_count");
    json_t *orph = json_object_get(root, "pn_orphaned");
    if (!json_is_object(root))
        bad = "payload is not a JSON object";
    else if (!json_is_string(cls))
        bad = "payload has no string \"class\"";
    else if (!valid_class(json_string_value(cls), json_string_length(cls)))
        bad = "\"class\" must be 1-200 characters of A-Z a-z 0-9 _ :";
    else if (!json_is_array(args))
        bad = "payload has no \"args\" array";
    else if (!json_is_string(jid) || json_string_length(jid) == 0 || json_string_length(jid) > 64 ||
             strlen(json_string_value(jid)) != json_string_length(jid))
        bad = "payload has no \"jid\" string of 1-64 characters";
    else if (q && (!json_is_string(q) || json_string_length(q) == 0 || json_string_length(q) > 64))
        bad = "\"queue\" must be a string of 1-64 characters";
    else if (retry && !json_is_boolean(retry) &&
             !(json_is_integer(retry) && json_integer_value(retry) >= 0 &&
               json_integer_value(retry) <= 1000))
        bad = "\"retry\" must be true, false or an integer 0..1000";
    else if (rc && !json_is_null(rc) &&
             !(json_is_integer(rc) && json_integer_value(rc) >= 0 &&
               json_integer_value(rc) <= 100000))
        bad = "\"retry_count\" must be a non-negative integer";
    else if (orph && !(json_is_integer(orph) && json_integer_value(orph) >= 0 &&
                       json_integer_value(orph) <= 100000))
        bad = "\"pn_orphaned\" must be a non-negative integer";
    if (bad) {
        (void)snprintf(why, whylen, "%s", bad);
        json_decref(root);
        return -1;
    }
    out->root = root;
    out->job_class = json_string_value(cls);
    out->jid = json_string_value(jid);
    out->queue = q ? json_string_value(q) : NULL;
    out->args = args;
    out->retry = !retry || json_is_true(retry) ? PNW_RETRY_CLASS
                 : json_is_false(retry)        ? PNW_RETRY_DISCARD
                                               : (int)json_integer_value(retry);
    out->retry_count = json_is_integer(rc) ? (int)json_integer_value(rc) : -1;
    out->orphaned = orph ? (int)json_integer_value(orph) : 0;
    return 0;
}

void
pnw_payload_clear(pnw_payload_t *p)
{
    json_decref(p->root);
    memset(p, 0, sizeof *p);
}

static const char *
type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

int
pnw_args_check(const char *spec, const json_t *args, char *why, size_t whylen)
{
    if (!spec)
        return 0;
    size_t n = json_array_size(args), pos = 0, required = 0, total = 0;
    bool optional = false;
    for (const char *s = spec; *s; s++) {
        if (*s == '?') {
            optional = true;
            continue;
        }
        total++;
        if (!optional)
            required++;
    }
    if (n < required || n > total) {
        if (required == total)
            (void)snprintf(why, whylen, "expected %zu argument%s, got %zu", total,
                           total == 1 ? "" : "s", n);
        else
            (void)snprintf(why, whylen, "expected %zu to %zu arguments, got %zu", required, total,
                           n);
        return -1;
    }
    for (const char *s = spec; *s && pos < n; s++) {
        if (*s == '?')
            continue;
        const json_t *v = json_array_get(args, pos++);
        bool ok;
        const char *want;
        switch (*s) {
        case 's':
            ok = json_is_string(v), want = "a string";
            break;
        case 'i':
            ok = json_is_integer(v), want = "an integer";
            break;
        case 'n':
            ok = json_is_number(v), want = "a number";
            break;
        case 'b':
            ok = json_is_boolean(v), want = "a boolean";
            break;
        case 'o':
            ok = json_is_object(v), want = "an object";
            break;
        case 'a':
            ok = json_is_array(v), want = "an array";
            break;
        default:
            ok = true, want = "anything";
            break;
        }
        if (!ok) {
            (void)snprintf(why, whylen, "argument %zu must be %s, got %s", pos, want, type_name(v));
            return -1;
        }
    }
    return 0;
}

/* Reasons may quote input bytes (jansson's "near '...'"): keep them printable ASCII. */
static json_t *
reason_string(const char *msg)
{
    char buf[512];
    size_t i = 0;
    for (; msg && msg[i] && i < sizeof buf - 1; i++) {
        unsigned char c = (unsigned char)msg[i];
        buf[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
    }
    buf[i] = '\0';
    return json_string(buf);
}

static char *
dump(json_t *o)
{
    return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

char *
pnw_payload_failed(pnw_payload_t *p, const char *error_class, const char *message, double now,
                   int retry_count)
{
    json_t *o = p->root;
    int bad = json_object_set_new(o, "error_message", reason_string(message));
    bad |= json_object_set_new(o, "error_class", json_string(error_class));
    if (p->retry_count < 0)
        bad |= json_object_set_new(o, "failed_at", json_real(now));
    else
        bad |= json_object_set_new(o, "retried_at", json_real(now));
    bad |= json_object_set_new(o, "retry_count", json_integer(retry_count));
    return bad ? NULL : dump(o);
}

char *
pnw_payload_orphaned(pnw_payload_t *p, int orphaned)
{
    if (json_object_set_new(p->root, "pn_orphaned", json_integer(orphaned)) != 0)
        return NULL;
    return dump(p->root);
}

char *
pnw_payload_wrap_bad(const char *buf, size_t len, const char *queue, const char *why, double now)
{
    unsigned char rnd[12];
    char jid[25];
    size_t keep = len < RAW_KEEP ? len : RAW_KEEP;
    char *b64 = malloc(4 * ((keep + 2) / 3) + 1);
    if (!b64 || pnw_random(rnd, sizeof rnd) != 0) {
        free(b64);
        return NULL;
    }
    pnw_b64((const unsigned char *)buf, keep, b64);
    for (size_t i = 0; i < 12; i++)
        (void)snprintf(jid + 2 * i, 3, "%02x", rnd[i]);
    json_t *o = json_object();
    int bad = json_object_set_new(o, "retry", json_false());
    bad |= json_object_set_new(o, "queue", json_string(queue));
    bad |= json_object_set_new(o, "class", json_string("PnBadPayload"));
    bad |= json_object_set_new(o, "args", json_array());
    bad |= json_object_set_new(o, "jid", json_string(jid));
    bad |= json_object_set_new(o, "error_message", reason_string(why));
    bad |= json_object_set_new(o, "error_class", json_string("PnBadPayload"));
    bad |= json_object_set_new(o, "failed_at", json_real(now));
    bad |= json_object_set_new(o, "retry_count", json_integer(0));
    bad |= json_object_set_new(o, "pn_raw_bytes", json_integer((json_int_t)len));
    bad |= json_object_set_new(o, "pn_raw_b64", json_string(b64));
    free(b64);
    char *s = bad ? NULL : dump(o);
    json_decref(o);
    return s;
}
