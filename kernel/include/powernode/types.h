/*
 * Basic types, error codes and attribute macros shared by every Powernode SDK header.
 * Nothing here depends on a kernel internal; third-party plugins include it through plugin.h.
 */
#ifndef POWERNODE_TYPES_H
#define POWERNODE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define PN_EXPORT __attribute__((visibility("default")))
#define PN_HIDDEN __attribute__((visibility("hidden")))
#define PN_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PN_EXPORT
#define PN_HIDDEN
#define PN_PRINTF(fmt, args)
#endif

#define PN_KIB(n) ((size_t)(n)*1024u)
#define PN_MIB(n) ((size_t)(n)*1024u * 1024u)

/*
 * Result codes. Every SDK function that can fail returns PN_OK (0) or one of these negative
 * values. Each maps to exactly one HTTP status in the kernel (shown on the right); whoever
 * detects the error writes the message with pn_fail() and callers only pass the code up.
 * Since ABI 1. New codes are appended; existing values never change.
 */
typedef enum pn_err {
    PN_OK = 0,
    PN_E_BADREQ = -1,        /* 400 malformed request */
    PN_E_UNAUTH = -2,        /* 401 no or invalid credentials */
    PN_E_FORBIDDEN = -3,     /* 403 authenticated but not allowed */
    PN_E_NOTFOUND = -4,      /* 404 no such resource (also used to hide other accounts' rows) */
    PN_E_METHOD = -5,        /* 405 path exists, method does not */
    PN_E_CONFLICT = -6,      /* 409 state conflict, unique violation */
    PN_E_TOOLARGE = -7,      /* 413 body over the route's limit */
    PN_E_MEDIATYPE = -8,     /* 415 unsupported Content-Type */
    PN_E_INVALID = -9,       /* 422 well-formed but fails validation */
    PN_E_LOCKED = -10,       /* 423 resource locked */
    PN_E_RATELIMIT = -11,    /* 429 too many requests */
    PN_E_INTERNAL = -12,     /* 500 bug or unexpected failure; details only in the log */
    PN_E_UNAVAILABLE = -13,  /* 503 a dependency (PostgreSQL, Redis) is down; retry later */
    PN_E_TIMEOUT = -14,      /* 504 a dependency did not answer in time */
    PN_E_HDRTOOLARGE = -15,  /* 431 request header fields too large */
    PN_E_GONE = -16,         /* 410 existed once, permanently gone */
    PN_E_PRECONDITION = -17, /* 412 a precondition header failed */
    PN_E_RANGE = -18,        /* 416 range not satisfiable */
} pn_err_t;

/* HTTP methods a route can be registered for. Values are bit flags so a set fits in a word. */
typedef enum pn_method {
    PN_GET = 1 << 0,
    PN_HEAD = 1 << 1,
    PN_POST = 1 << 2,
    PN_PUT = 1 << 3,
    PN_PATCH = 1 << 4,
    PN_DELETE = 1 << 5,
    PN_OPTIONS = 1 << 6,
} pn_method_t;

/* Opaque handles. Their layout is the kernel's business and may change in any release. */
typedef struct pn_req pn_req_t;               /* one HTTP request, owned by the kernel */
typedef struct pn_plugin_ctx pn_plugin_ctx_t; /* one loaded plugin, owned by the kernel */
typedef struct pn_rows pn_rows_t;             /* a query result, owned by the request arena */

/* Log levels for host->log. */
typedef enum pn_log_level {
    PN_LOG_DEBUG = 0,
    PN_LOG_INFO = 1,
    PN_LOG_WARN = 2,
    PN_LOG_ERROR = 3,
} pn_log_level_t;

#endif /* POWERNODE_TYPES_H */
