/*
 * Inline helpers over the host table, for use inside a plugin (they read the pn_host_ and
 * pn_ctx_ that PN_PLUGIN defines). They add no behaviour of their own; the reference for each
 * is the matching member of pn_host_t in host.h.
 */
#ifndef POWERNODE_REPLY_H
#define POWERNODE_REPLY_H

#include <powernode/host.h>

/* ---- replies: each steals its json_t and returns a code to return from the handler ---- */

static inline int
pn_reply_ok(pn_req_t *req, json_t *data)
{
    return pn_host_->reply_json(req, 200, data, NULL);
}

static inline int
pn_reply_created(pn_req_t *req, json_t *data)
{
    return pn_host_->reply_json(req, 201, data, NULL);
}

static inline int
pn_reply_meta(pn_req_t *req, json_t *data, json_t *meta)
{
    return pn_host_->reply_json(req, 200, data, meta);
}

static inline int
pn_reply_empty(pn_req_t *req)
{
    return pn_host_->reply_raw(req, 204, NULL, NULL, 0);
}

static inline int
pn_reply_header(pn_req_t *req, const char *name, const char *value)
{
    return pn_host_->reply_header(req, name, value);
}

static inline PN_PRINTF(3, 4) int pn_fail(pn_req_t *req, int code, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = pn_host_->vfail(req, code, fmt, ap);
    va_end(ap);
    return rc;
}

static inline PN_PRINTF(3, 4) void pn_fail_field(pn_req_t *req, const char *field, const char *fmt,
                                                 ...)
{
    va_list ap;

    va_start(ap, fmt);
    pn_host_->vfail_field(req, field, fmt, ap);
    va_end(ap);
}

/* ---- request accessors: returned pointers live until the request ends ---- */

static inline const char *
pn_req_param(pn_req_t *req, const char *name)
{
    return pn_host_->req_param(req, name);
}

static inline const char *
pn_req_query(pn_req_t *req, const char *name)
{
    return pn_host_->req_query(req, name);
}

static inline const char *
pn_req_header(pn_req_t *req, const char *name)
{
    return pn_host_->req_header(req, name);
}

static inline json_t *
pn_req_json(pn_req_t *req)
{
    return pn_host_->req_json(req);
}

static inline void *
pn_req_alloc(pn_req_t *req, size_t n)
{
    return pn_host_->req_alloc(req, n);
}

static inline PN_PRINTF(2, 3) char *pn_req_printf(pn_req_t *req, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = pn_host_->req_vprintf(req, fmt, ap);
    va_end(ap);
    return s;
}

static inline int
pn_req_defer(pn_req_t *req, pn_defer_fn fn, void *arg)
{
    return pn_host_->req_defer(req, fn, arg);
}

/* ---- database ---- */

/* pn_db_query(req, &rows, "SELECT ... WHERE id = $1", id) with up to 16 text parameters. */
#define pn_db_query(req, rows, sql, ...)                                                           \
    pn_host_->db_query((req), (sql),                                                               \
                       (int)(sizeof((const char *[]){NULL, __VA_ARGS__}) / sizeof(char *)) - 1,    \
                       ((const char *const[]){NULL, __VA_ARGS__}) + 1, (rows))

static inline const char *
pn_rows_value(const pn_rows_t *rows, int row, int col)
{
    return pn_host_->rows_value(rows, row, col);
}

static inline int
pn_rows_count(const pn_rows_t *rows)
{
    return pn_host_->rows_count(rows);
}

/* ---- logging: key=value facts, never secrets ---- */

#define PN_DEBUG(...) pn_host_->log(pn_ctx_, PN_LOG_DEBUG, __VA_ARGS__)
#define PN_INFO(...) pn_host_->log(pn_ctx_, PN_LOG_INFO, __VA_ARGS__)
#define PN_WARN(...) pn_host_->log(pn_ctx_, PN_LOG_WARN, __VA_ARGS__)
#define PN_ERROR(...) pn_host_->log(pn_ctx_, PN_LOG_ERROR, __VA_ARGS__)

#endif /* POWERNODE_REPLY_H */
