/* Envelope construction and the error-code-to-status table; see envelope.h. */
#include "envelope.h"

#include <stdlib.h>
#include <string.h>

#include <powernode/types.h>

static const struct {
    int code, status;
    const char *message;
} err_table[] = {
    {PN_E_BADREQ, 400, "bad request"},
    {PN_E_UNAUTH, 401, "authentication required"},
    {PN_E_FORBIDDEN, 403, "permission denied"},
    {PN_E_NOTFOUND, 404, "not found"},
    {PN_E_METHOD, 405, "method not allowed"},
    {PN_E_CONFLICT, 409, "conflict"},
    {PN_E_GONE, 410, "gone"},
    {PN_E_PRECONDITION, 412, "precondition failed"},
    {PN_E_TOOLARGE, 413, "request body too large"},
    {PN_E_MEDIATYPE, 415, "unsupported media type"},
    {PN_E_RANGE, 416, "range not satisfiable"},
    {PN_E_INVALID, 422, "validation failed"},
    {PN_E_LOCKED, 423, "locked"},
    {PN_E_RATELIMIT, 429, "too many requests"},
    {PN_E_HDRTOOLARGE, 431, "request header fields too large"},
    {PN_E_INTERNAL, 500, "internal error"},
    {PN_E_UNAVAILABLE, 503, "service unavailable"},
    {PN_E_TIMEOUT, 504, "dependency timed out"},
};

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

int
pnk_err_status(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return err_table[i].status;
    return 500;
}

int
pnk_status_err(int status)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].status == status)
            return err_table[i].code;
    return status >= 500 ? PN_E_INTERNAL : PN_E_BADREQ;
}

const char *
pnk_err_message(int code)
{
    for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
        if (err_table[i].code == code)
            return err_table[i].message;
    return "internal error";
}

const char *
pnk_status_reason(int status)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

json_t *
pnk_envelope_ok(json_t *data, json_t *meta)
{
    json_t *o = json_object();

    if (o == NULL) {
        json_decref(data);
        json_decref(meta);
        return NULL;
    }
    json_object_set_new(o, "success", json_true());
    json_object_set_new(o, "data", data ? data : json_null());
    if (meta)
        json_object_set_new(o, "meta", meta);
    return o;
}

json_t *
pnk_envelope_error(const char *message, json_t *details)
{
    json_t *o = json_object();

    if (o == NULL) {
        json_decref(details);
        return NULL;
    }
    json_object_set_new(o, "success", json_false());
    json_object_set_new(o, "error", json_string(message ? message : "error"));
    json_object_set_new(o, "details", details ? details : json_array());
    return o;
}

char *
pnk_envelope_error_text(const char *message, const char *field, const char *detail, size_t *len_out)
{
    json_t *details = json_array();
    char *s;

    if (details && detail)
        json_array_append_new(details, json_pack("{s:s?, s:s}", "field", field, "message", detail));
    json_t *env = pnk_envelope_error(message, details);
    s = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    if (s == NULL) {
        static const char fallback[] =
            "{\"success\":false,\"error\":\"out of memory\",\"details\":[]}";
        s = strdup(fallback);
    }
    if (len_out)
        *len_out = s ? strlen(s) : 0;
    return s;
}
