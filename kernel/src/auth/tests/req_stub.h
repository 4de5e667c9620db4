/* A minimal request layer for the auth tests: just enough of kernel/src/app/request.c's
 * functions (same names) for auth_authn.c and auth_routes.c, on a real database pool, so
 * these tests do not depend on the app area. */
#ifndef PN_AUTH_REQ_STUB_H
#define PN_AUTH_REQ_STUB_H

#include "../../app/request.h"

typedef struct stub_req {
    pn_req_t req;
    pnk_http_request_t http;
    pnk_http_header_t headers[4];
    pnk_route_t route;
    pnk_db_pool_t *pool;
    /* What the code under test produced. */
    int status;              /* of pnk_reply_json, 0 when none */
    json_t *data;            /* the reply's data, owned here */
    char reply_headers[512]; /* "Name: value\n" lines from pnk_reply_header */
    int last_rc;             /* free for the tests' own use */
} stub_req_t;

/* A request on `route_path` with route flags/perm, an optional Authorization header and an
 * optional JSON body (parsed). */
stub_req_t *stub_req_new(pnk_db_pool_t *pool, uint32_t flags, const char *perm,
                         const char *authorization, const char *json_body);
void stub_req_free(stub_req_t *s);

#endif
