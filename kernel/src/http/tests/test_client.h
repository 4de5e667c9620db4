/* A minimal blocking HTTP/1.1 client over loopback for the server tests; every read is
 * bounded by a socket timeout. */
#ifndef TEST_CLIENT_H
#define TEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tc_conn {
    int fd;
    char buf[300 * 1024];
    size_t len;
} tc_conn_t;

typedef struct tc_resp {
    int status;
    char head[4096];
    long content_length; /* -1 when absent */
    char body[300 * 1024];
    size_t body_len;
    bool conn_close; /* "Connection: close" */
} tc_resp_t;

/* Connect to 127.0.0.1:port with receive/send timeouts of timeout_ms. -1 on failure. */
int tc_connect(tc_conn_t *c, int port, int timeout_ms);
int tc_send(tc_conn_t *c, const void *data, size_t len);
int tc_sends(tc_conn_t *c, const char *s);
/* Read one final response (1xx ones are skipped); head_only: a HEAD answer has no body.
 * 0, or -1 on timeout, close or garbage. */
int tc_read(tc_conn_t *c, tc_resp_t *r, bool head_only);
/* True when the server closed within timeout_ms (EOF or reset, after any unread data). */
bool tc_closed(tc_conn_t *c, int timeout_ms);
void tc_close(tc_conn_t *c);
/* One request on a fresh connection; the response status, or -1. */
int tc_get_status(int port, const char *path);
/* Header value in r->head (case-insensitive), copied to out; false when absent. */
bool tc_header(const tc_resp_t *r, const char *name, char *out, size_t n);

#endif
