/*
 * The HTTP layer alone under load: answers every request with a /health-sized JSON envelope
 * (and the two headers the app adds), for comparing with nginx using wrk. Not a test.
 * Usage: http_bench_server [port] [threads]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../http.h"

static unsigned long long next_id;

static int
on_head(void *ud, pnk_http_request_t *req, size_t *max_body, const char **message)
{
    (void)ud;
    (void)max_body;
    (void)message;
    /* The app makes its request id on the loop thread, so a plain counter is enough. */
    req->app_data = pnk_arena_printf(req->arena, "%016llx", ++next_id);
    return 0;
}

static void
handle(void *ud, pnk_http_request_t *req, pnk_http_response_t *resp)
{
    static const char body[] = "{\"success\":true,\"data\":{\"status\":\"ok\"}}";

    (void)ud;
    resp->status = 200;
    resp->body = body;
    resp->body_len = sizeof body - 1;
    pnk_http_response_header(req, resp, "Content-Type", "application/json");
    pnk_http_response_header(req, resp, "X-Request-Id", req->app_data);
}

int
main(int argc, char **argv)
{
    pnk_http_limits_t l;
    pnk_http_app_t app = {NULL, on_head, handle, NULL};
    char err[256];

    pnk_http_limits_default(&l);
    l.port = argc > 1 ? atoi(argv[1]) : 3000;
    l.threads = argc > 2 ? atoi(argv[2]) : 8;
    pnk_http_server_t *s = pnk_http_server_new(&l, &app, err, sizeof err);
    if (s == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = pnk_http_server_run(s);
    pnk_http_server_free(s);
    return rc;
}
