/* Loopback test client: blocking sockets with timeouts, just enough HTTP to check answers. */
#include "test_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int
tc_connect(tc_conn_t *c, int port, int timeout_ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

    c->len = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

int
tc_send(tc_conn_t *c, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
tc_sends(tc_conn_t *c, const char *s)
{
    return tc_send(c, s, strlen(s));
}

/* Read more into the buffer; bytes read, 0 at EOF, -1 on error/timeout. */
static ssize_t
fill(tc_conn_t *c)
{
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void
consume(tc_conn_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

bool
tc_header(const tc_resp_t *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    const char *line = strstr(r->head, "\r\n");

    while (line && line[2] != '\0') {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t vl = e ? (size_t)(e - v) : strlen(v);
            if (vl >= n)
                vl = n - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return true;
        }
        line = strstr(line, "\r\n");
    }
    return false;
}

int
tc_read(tc_conn_t *c, tc_resp_t *r, bool head_only)
{
    for (int rounds = 0; rounds < 4; rounds++) {
        char *end;
        memset(r, 0, sizeof *r);
        r->content_length = -1;
        while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
            if (fill(c) <= 0)
                return -1;
        size_t hl = (size_t)(end - c->buf) + 4;
        if (hl >= sizeof r->head)
            return -1;
        memcpy(r->head, c->buf, hl);
        r->head[hl] = '\0';
        consume(c, hl);
        if (sscanf(r->head, "HTTP/1.1 %d", &r->status) != 1)
            return -1;
        if (r->status < 200)
            continue;
        char v[64];
        if (tc_header(r, "Content-Length", v, sizeof v))
            r->content_length = atol(v);
        r->conn_close = tc_header(r, "Connection", v, sizeof v) && strcasecmp(v, "close") == 0;
        if (head_only || r->content_length <= 0)
            return 0;
        if ((size_t)r->content_length >= sizeof r->body)
            return -1;
        while (c->len < (size_t)r->content_length)
            if (fill(c) <= 0)
                return -1;
        r->body_len = (size_t)r->content_length;
        memcpy(r->body, c->buf, r->body_len);
        r->body[r->body_len] = '\0';
        consume(c, r->body_len);
        return 0;
    }
    return -1;
}

bool
tc_closed(tc_conn_t *c, int timeout_ms)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};

    for (int i = 0; i < 64; i++) {
        if (poll(&pfd, 1, timeout_ms) <= 0)
            return false;
        char tmp[4096];
        ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false;
    }
    return false;
}

void
tc_close(tc_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int
tc_get_status(int port, const char *path)
{
    tc_conn_t *c = malloc(sizeof *c);
    tc_resp_t *r = malloc(sizeof *r);
    char req[512];
    int status = -1;

    if (c && r && tc_connect(c, port, 3000) == 0) {
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
        if (tc_sends(c, req) == 0 && tc_read(c, r, false) == 0)
            status = r->status;
        tc_close(c);
    }
    free(c);
    free(r);
    return status;
}
