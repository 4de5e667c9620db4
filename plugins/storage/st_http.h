/*
 * The remote providers' HTTP client over libcurl: endpoint parsing, one request with its body
 * from memory and its response body streamed to a sink (or kept, capped, for error XML), and
 * the guard that keeps a tenant's endpoint off loopback and private networks.
 */
#ifndef ST_HTTP_H
#define ST_HTTP_H

#include "st.h"
#include "st_util.h"

#include <curl/curl.h>

typedef struct st_endpoint {
    char scheme[8]; /* "http" or "https" */
    char host[256]; /* name, IPv4, or [IPv6] */
    int port;       /* 0 = the scheme's default */
    char path[256]; /* prefix without trailing '/', "" for none */
} st_endpoint_t;

/* Parse scheme://host[:port][/path]. Plain http and literal private addresses only when
 * allow_private. */
int st_endpoint_parse(const char *url, bool allow_private, st_endpoint_t *ep, st_err_t *err);
/* Whether the guard refuses to connect to this address (loopback, private, link-local,
 * shared, multicast, unspecified; IPv4-mapped and NAT64 forms included). */
bool st_addr_blocked(const struct sockaddr *sa);

/* The Host header value: host, with ":port" when not the scheme's default. */
void st_endpoint_hostport(const st_endpoint_t *ep, char *out, size_t n);

typedef struct st_http_req {
    const char *method; /* GET HEAD PUT POST DELETE */
    const char *url;
    struct curl_slist *headers;
    const void *body; /* PUT/POST body from memory, may be NULL */
    size_t body_len;
    pn_storage_sink_fn sink; /* receives a 2xx body; NULL keeps it in `resp` */
    void *sink_ud;
    /* A Range was asked for: only bytes [range_off, range_off + range_len) reach the sink
     * (range_len 0 = to the end), placed by the 206's Content-Range, or from byte 0 when the
     * server ignored the Range (200). A server sending more than asked is thus harmless. */
    bool ranged;
    uint64_t range_off, range_len;

    /* results */
    long status;
    char etag[130];
    char ctype[128];
    int64_t content_length; /* -1 when absent */
    uint64_t range_total;   /* total size from Content-Range, 0 when absent */
    uint64_t range_start;   /* first byte from Content-Range, 0 when absent */
    st_buf_t resp;          /* a body not sent to the sink, first 64 KiB */
    int sink_rc;
    bool blocked; /* the guard refused the address */
    size_t body_off;
    uint64_t seen; /* body bytes received, for the window above */
} st_http_req_t;

typedef struct st_http {
    CURL *curl;
    st_opts_t opts;
} st_http_t;

int st_http_init(st_http_t *h, const st_opts_t *opts, st_err_t *err);
void st_http_cleanup(st_http_t *h);

/* Run a request. PN_OK when an HTTP response arrived (any status: check r->status), otherwise
 * a code and message (unreachable, timeout, the sink's code as passthrough). Free r->resp
 * with st_http_req_done. */
int st_http_do(st_http_t *h, st_http_req_t *r, st_err_t *err);
void st_http_req_done(st_http_req_t *r);

/* The error for a non-2xx response: 404 PN_E_NOTFOUND, 416 PN_E_RANGE, 401/403 and 5xx
 * PN_E_UNAVAILABLE (the provider refused our credentials or is down), others PN_E_INTERNAL.
 * The message names the status and the provider's error code, never the body. */
int st_http_status_err(const st_http_req_t *r, const char *what, st_err_t *err);

/* The text of the first <tag>...</tag> in xml into out (entities &quot; &amp; &lt; &gt;
 * &apos; decoded); false when absent or too long. */
bool st_xml_get(const char *xml, const char *tag, char *out, size_t n);

#endif /* ST_HTTP_H */
