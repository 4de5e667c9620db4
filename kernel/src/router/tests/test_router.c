/* The route table: pattern checks, duplicates, matching, precedence, 404/405, bad paths. */
#include <CUnit/CUnit.h>
#include <string.h>
#include <time.h>

#include <powernode/types.h>

#include "../router.h"

void register_router_tests(void);

static int
handler(pn_req_t *req)
{
    (void)req;
    return PN_OK;
}

static int
other_handler(pn_req_t *req)
{
    (void)req;
    return PN_E_NOTFOUND;
}

static char err[512];

static int
add(pnk_router_t *r, pn_method_t m, const char *path, const char *perm, uint32_t flags)
{
    pn_route_t rt = {m, path, perm, handler, "A route", 0, NULL, NULL, flags};
    err[0] = '\0';
    return pnk_router_add(r, &rt, "files", NULL, err, sizeof err);
}

static pnk_router_t *
sample(void)
{
    pnk_router_t *r = pnk_router_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/", NULL, PN_ROUTE_PUBLIC), 0);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/api/v1/files/:id", "files.files.read", 0), 0);
    CU_ASSERT_EQUAL(add(r, PN_DELETE, "/api/v1/files/:id", "files.files.delete", 0), 0);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/api/v1/files/trash", "files.files.read", 0), 0);
    CU_ASSERT_EQUAL(add(r, PN_POST, "/api/v1/files/:id/versions", "files.versions.create", 0), 0);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/api/v1/files/:id/versions/:vid", "files.versions.read", 0), 0);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/static/*path", NULL, PN_ROUTE_PUBLIC), 0);
    CU_ASSERT_EQUAL(add(r, PN_PUT, "/api/v1/worker/jobs/:jid", NULL, PN_ROUTE_SERVICE), 0);
    CU_ASSERT_EQUAL(add(r, PN_DELETE, "/api/v1/only/trash", "files.files.delete", 0), 0);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/api/v1/only/:id", "files.files.read", 0), 0);
    return r;
}

static void
test_router_add_rejects_bad_patterns(void)
{
    pnk_router_t *r = pnk_router_new();
    const char *bad[] = {"files",
                         "/files/",
                         "/a//b",
                         "/a/:",
                         "/a/:1x",
                         "/a/*rest/more",
                         "/a/:id/:id",
                         "/a/./b",
                         "/a/../b",
                         "/a/b%20c",
                         "/a/b c",
                         "/a/:i-d",
                         "/:a/:b/:c/:d/:e/:f/:g/:h/:i",
                         "",
                         "/a?b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(add(r, PN_GET, bad[i], "files.files.read", 0), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "(owner files)"));
        CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    }
    CU_ASSERT_EQUAL(add(r, PN_GET, NULL, "files.files.read", 0), -1);
    CU_ASSERT_EQUAL(pnk_router_count(r), 0);
    /* Literals may hold ':' and '*' after their first character. */
    CU_ASSERT_EQUAL(add(r, PN_POST, "/api/v1/files:batch", "files.files.create", 0), 0);
    pnk_router_free(r);
}

static void
test_router_add_rejects_duplicates_naming_both(void)
{
    pnk_router_t *r = pnk_router_new();
    CU_ASSERT_EQUAL(add(r, PN_GET, "/files/:id", "files.files.read", 0), 0);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/files/:id", "files.files.read", 0), -1);
    CU_ASSERT_STRING_EQUAL(err, "route GET /files/:id (owner files): same method and pattern as "
                                "/files/:id (owner files)");
    /* Same shape with another parameter name cannot be told apart either. */
    CU_ASSERT_EQUAL(add(r, PN_GET, "/files/:name", "files.files.read", 0), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "same method and pattern"));
    CU_ASSERT_EQUAL(add(r, PN_DELETE, "/files/:name", "files.files.delete", 0), 0);
    CU_ASSERT_EQUAL(pnk_router_count(r), 2);
    pnk_router_free(r);
}

static void
test_router_add_checks_fields(void)
{
    pnk_router_t *r = pnk_router_new();
    pn_route_t rt = {PN_GET, "/x", "files.files.read", handler, "Summary", 0, NULL, NULL, 0};

    CU_ASSERT_EQUAL(add(r, PN_GET, "/a", NULL, 0), -1); /* needs a perm */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "perm"));
    CU_ASSERT_EQUAL(add(r, PN_GET, "/a", "files.files.read", PN_ROUTE_PUBLIC), -1);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/a", NULL, PN_ROUTE_PUBLIC | PN_ROUTE_SERVICE), -1);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/a", "Files.read", 0), -1);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/a", "files.files.read", 1u << 9), -1);
    CU_ASSERT_EQUAL(add(r, PN_OPTIONS, "/a", "files.files.read", 0), -1);
    CU_ASSERT_EQUAL(add(r, PN_GET | PN_POST, "/a", "files.files.read", 0), -1);
    CU_ASSERT_EQUAL(add(r, 0, "/a", "files.files.read", 0), -1);
    CU_ASSERT_EQUAL(add(r, PN_GET, "/a", NULL, PN_ROUTE_SERVICE), 0);

    rt.summary = "";
    CU_ASSERT_EQUAL(pnk_router_add(r, &rt, "files", NULL, err, sizeof err), -1);
    rt.summary = "Summary";
    rt.fn = NULL;
    CU_ASSERT_EQUAL(pnk_router_add(r, &rt, "files", NULL, err, sizeof err), -1);
    rt.fn = handler;
    CU_ASSERT_EQUAL(pnk_router_add(r, &rt, NULL, NULL, err, sizeof err), -1);
    rt.req_schema = "{\"type\": \"objekt\"}";
    CU_ASSERT_EQUAL(pnk_router_add(r, &rt, "files", NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "req_schema"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "route GET /x (owner files)"));
    rt.req_schema = "{\"type\": \"object\"}";
    rt.flags = PN_ROUTE_RAW_BODY;
    CU_ASSERT_EQUAL(pnk_router_add(r, &rt, "files", NULL, err, sizeof err), -1);
    rt.flags = 0;
    rt.resp_schema = "{\"typo\": 1}";
    CU_ASSERT_EQUAL(pnk_router_add(r, &rt, "files", NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "resp_schema"));
    rt.resp_schema = NULL;
    int owner_data;
    CU_ASSERT_EQUAL(pnk_router_add(r, &rt, "files", &owner_data, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_router_count(r), 2);

    const pnk_route_t *k = pnk_router_at(r, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT_STRING_EQUAL(k->path, "/x");
    CU_ASSERT_STRING_EQUAL(k->perm, "files.files.read");
    CU_ASSERT_STRING_EQUAL(k->owner, "files");
    CU_ASSERT_PTR_EQUAL(k->owner_data, &owner_data);
    CU_ASSERT_PTR_NOT_NULL(k->req_schema);
    CU_ASSERT_PTR_NULL(k->resp_schema);
    CU_ASSERT_PTR_NULL(pnk_router_at(r, 2));
    pnk_router_free(r);
}

/* Matches and returns the code; *m filled. */
static int
match(pnk_router_t *r, pnk_arena_t *a, int method, const char *path, pnk_match_t *m,
      uint32_t *allowed)
{
    return pnk_router_match(r, method, path, a, m, allowed);
}

static void
test_router_match_params_and_encoding(void)
{
    pnk_router_t *r = sample();
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_match_t m;
    uint32_t allowed;

    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/files/abc", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.route->path, "/api/v1/files/:id");
    CU_ASSERT_EQUAL(m.nparams, 1);
    CU_ASSERT_STRING_EQUAL(m.names[0], "id");
    CU_ASSERT_STRING_EQUAL(m.values[0], "abc");

    /* %2F is part of the parameter, not a separator. */
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/files/a%2Fb", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.route->path, "/api/v1/files/:id");
    CU_ASSERT_STRING_EQUAL(m.values[0], "a/b");
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/files/x%20y+z/versions/7", &m, &allowed), 0);
    CU_ASSERT_EQUAL(m.nparams, 2);
    CU_ASSERT_STRING_EQUAL(m.values[0], "x y+z");
    CU_ASSERT_STRING_EQUAL(m.names[1], "vid");
    CU_ASSERT_STRING_EQUAL(m.values[1], "7");

    /* Literal segments compare decoded. */
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/%76%31/files/%74rash", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.route->path, "/api/v1/files/trash");
    CU_ASSERT_EQUAL(m.nparams, 0);

    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.route->path, "/");

    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/static/css/app%2Fx.css", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.route->path, "/static/*path");
    CU_ASSERT_STRING_EQUAL(m.names[0], "path");
    CU_ASSERT_STRING_EQUAL(m.values[0], "css/app/x.css");
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/static/", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.values[0], "");
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/static", &m, &allowed), PN_E_NOTFOUND);
    pnk_arena_free(a);
    pnk_router_free(r);
}

static void
test_router_literal_beats_param(void)
{
    /* Both registration orders give the same answer. */
    for (int order = 0; order < 2; order++) {
        pnk_router_t *r = pnk_router_new();
        pnk_arena_t *a = pnk_arena_new(0);
        pnk_match_t m;
        if (order == 0) {
            CU_ASSERT_EQUAL(add(r, PN_GET, "/files/:id", "files.files.read", 0), 0);
            CU_ASSERT_EQUAL(add(r, PN_GET, "/files/trash", "files.files.read", 0), 0);
        } else {
            CU_ASSERT_EQUAL(add(r, PN_GET, "/files/trash", "files.files.read", 0), 0);
            CU_ASSERT_EQUAL(add(r, PN_GET, "/files/:id", "files.files.read", 0), 0);
        }
        CU_ASSERT_EQUAL(add(r, PN_GET, "/files/:id/raw", "files.files.read", 0), 0);
        CU_ASSERT_EQUAL(pnk_router_match(r, PN_GET, "/files/trash", a, &m, NULL), 0);
        CU_ASSERT_STRING_EQUAL(m.route->path, "/files/trash");
        CU_ASSERT_EQUAL(pnk_router_match(r, PN_GET, "/files/trashy", a, &m, NULL), 0);
        CU_ASSERT_STRING_EQUAL(m.route->path, "/files/:id");
        /* Backtracking: the literal branch has no "raw" below it, the parameter does. */
        CU_ASSERT_EQUAL(pnk_router_match(r, PN_GET, "/files/trash/raw", a, &m, NULL), 0);
        CU_ASSERT_STRING_EQUAL(m.route->path, "/files/:id/raw");
        CU_ASSERT_STRING_EQUAL(m.values[0], "trash");
        pnk_arena_free(a);
        pnk_router_free(r);
    }
}

static void
test_router_404_405_and_head(void)
{
    pnk_router_t *r = sample();
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_match_t m;
    uint32_t allowed = 99;

    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/nothing", &m, &allowed), PN_E_NOTFOUND);
    CU_ASSERT_EQUAL(allowed, 0);
    CU_ASSERT_PTR_NULL(m.route);

    CU_ASSERT_EQUAL(match(r, a, PN_POST, "/api/v1/files/abc", &m, &allowed), PN_E_METHOD);
    CU_ASSERT_EQUAL(allowed, PN_GET | PN_HEAD | PN_DELETE | PN_OPTIONS);
    char *allow = pnk_method_allow_list(allowed, a);
    CU_ASSERT_STRING_EQUAL(allow, "GET, HEAD, DELETE, OPTIONS");

    /* Only PUT here: no HEAD in the allowed set. */
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/worker/jobs/1", &m, &allowed), PN_E_METHOD);
    CU_ASSERT_EQUAL(allowed, PN_PUT | PN_OPTIONS);
    /* An unrouted method (0) and OPTIONS get the allowed set too. */
    CU_ASSERT_EQUAL(match(r, a, 0, "/api/v1/worker/jobs/1", &m, &allowed), PN_E_METHOD);
    CU_ASSERT_EQUAL(match(r, a, PN_OPTIONS, "/api/v1/files/1", &m, &allowed), PN_E_METHOD);
    CU_ASSERT_EQUAL(allowed, PN_GET | PN_HEAD | PN_DELETE | PN_OPTIONS);

    /* The literal "trash" has GET; the parameter route adds DELETE; the union is allowed. */
    CU_ASSERT_EQUAL(match(r, a, PN_POST, "/api/v1/files/trash", &m, &allowed), PN_E_METHOD);
    CU_ASSERT_EQUAL(allowed, PN_GET | PN_HEAD | PN_DELETE | PN_OPTIONS);
    /* DELETE on the literal falls through to the parameter route that has it. */
    CU_ASSERT_EQUAL(match(r, a, PN_DELETE, "/api/v1/files/trash", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.route->path, "/api/v1/files/:id");
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/only/trash", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.route->path, "/api/v1/only/:id");

    CU_ASSERT_EQUAL(match(r, a, PN_HEAD, "/api/v1/files/abc", &m, &allowed), 0);
    CU_ASSERT_EQUAL(m.route->method, PN_GET);
    CU_ASSERT_EQUAL(match(r, a, PN_HEAD, "/api/v1/worker/jobs/1", &m, &allowed), PN_E_METHOD);

    /* A trailing slash is a different path. */
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/files/abc/", &m, &allowed), PN_E_NOTFOUND);
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/files/trash/", &m, &allowed), PN_E_NOTFOUND);
    pnk_arena_free(a);
    pnk_router_free(r);
}

static void
test_router_explicit_head(void)
{
    pnk_router_t *r = pnk_router_new();
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_match_t m;
    pn_route_t head = {PN_HEAD, "/f/:id", "files.files.read", other_handler, "Head", 0, NULL,
                       NULL,    0};
    CU_ASSERT_EQUAL(add(r, PN_GET, "/f/:id", "files.files.read", 0), 0);
    CU_ASSERT_EQUAL(pnk_router_add(r, &head, "files", NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_router_match(r, PN_HEAD, "/f/1", a, &m, NULL), 0);
    CU_ASSERT_PTR_EQUAL(m.route->fn, other_handler);
    CU_ASSERT_EQUAL(pnk_router_match(r, PN_GET, "/f/1", a, &m, NULL), 0);
    CU_ASSERT_PTR_EQUAL(m.route->fn, handler);
    pnk_arena_free(a);
    pnk_router_free(r);
}

static void
test_router_rejects_bad_paths(void)
{
    pnk_router_t *r = sample();
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_match_t m;
    uint32_t allowed;
    const char *bad[] = {"",
                         "api/v1/files/1",
                         "*",
                         "/api//v1/files/1",
                         "//",
                         "/api/v1/files/1//",
                         "/api/v1/files/..",
                         "/api/v1/files/.",
                         "/api/v1/files/%2e%2E",
                         "/api/v1/files/%2e",
                         "/api/v1/../v1/files/1",
                         "/api/v1/files/%00",
                         "/api/v1/files/a%zz",
                         "/api/v1/files/a%4",
                         "/api/v1/files/a%",
                         "/api/v1/files/a\tb",
                         "/api/v1/files/a\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(match(r, a, PN_GET, bad[i], &m, &allowed), PN_E_BADREQ);
    CU_ASSERT_EQUAL(match(r, a, PN_GET, NULL, &m, &allowed), PN_E_BADREQ);
    /* Dots inside a segment are fine. */
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/files/...", &m, &allowed), 0);
    CU_ASSERT_EQUAL(match(r, a, PN_GET, "/api/v1/files/.hidden", &m, &allowed), 0);
    CU_ASSERT_STRING_EQUAL(m.values[0], ".hidden");
    pnk_arena_free(a);
    pnk_router_free(r);
}

static void
test_router_owners(void)
{
    pnk_router_t *r = sample();
    pnk_arena_t *a = pnk_arena_new(0);
    pnk_match_t m;
    pn_route_t rt = {
        PN_GET, "/api/v1/ai/agents/:id", "ai.agents.read", handler, "Agent", 0, NULL, NULL, 0};

    CU_ASSERT_EQUAL(pnk_router_add(r, &rt, "ai", NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(pnk_router_count(r), 11);
    CU_ASSERT_EQUAL(pnk_router_count_owner(r, "files"), 10);
    CU_ASSERT_EQUAL(pnk_router_count_owner(r, "ai"), 1);
    CU_ASSERT_EQUAL(pnk_router_count_owner(r, "none"), 0);

    pnk_router_remove_owner(r, "files");
    CU_ASSERT_EQUAL(pnk_router_count(r), 1);
    CU_ASSERT_STRING_EQUAL(pnk_router_at(r, 0)->owner, "ai");
    CU_ASSERT_EQUAL(pnk_router_match(r, PN_GET, "/api/v1/files/abc", a, &m, NULL), PN_E_NOTFOUND);
    CU_ASSERT_EQUAL(pnk_router_match(r, PN_GET, "/api/v1/ai/agents/7", a, &m, NULL), 0);
    /* The removed patterns can be registered again. */
    CU_ASSERT_EQUAL(add(r, PN_GET, "/api/v1/files/:id", "files.files.read", 0), 0);
    CU_ASSERT_EQUAL(pnk_router_match(r, PN_GET, "/api/v1/files/abc", a, &m, NULL), 0);
    pnk_arena_free(a);
    pnk_router_free(r);
}

static void
test_router_methods(void)
{
    CU_ASSERT_STRING_EQUAL(pnk_method_name(PN_PATCH), "PATCH");
    CU_ASSERT_STRING_EQUAL(pnk_method_name(PN_GET | PN_POST), "UNKNOWN");
    CU_ASSERT_EQUAL(pnk_method_parse("DELETE"), PN_DELETE);
    CU_ASSERT_EQUAL(pnk_method_parse("delete"), 0);
    CU_ASSERT_EQUAL(pnk_method_parse("TRACE"), 0);
    pnk_arena_t *a = pnk_arena_new(0);
    CU_ASSERT_STRING_EQUAL(pnk_method_allow_list(0, a), "");
    CU_ASSERT_STRING_EQUAL(pnk_method_allow_list(0x7f, a),
                           "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    pnk_arena_free(a);
}

/* 1600 routes over 40 namespaces; lookups must stay cheap (a linear or exponential scan would
 * blow the generous bound even under sanitizers). */
static void
test_router_many_routes_fast(void)
{
    static const char *const res[] = {"items", "things", "runs", "logs", "keys"};
    static const char *const tails[] = {"", "/:id", "/:id/children", "/:id/children/:cid"};
    pnk_router_t *r = pnk_router_new();
    char path[128], perm[64];
    int n = 0;

    for (int ns = 0; ns < 40; ns++)
        for (int k = 0; k < 5; k++)
            for (int t = 0; t < 4; t++) {
                snprintf(path, sizeof path, "/api/v1/ns%d/%s%s", ns, res[k], tails[t]);
                snprintf(perm, sizeof perm, "ns%d.%s.read", ns, res[k]);
                n += add(r, PN_GET, path, perm, 0) == 0;
                n += add(r, PN_POST, path, perm, 0) == 0;
            }
    CU_ASSERT_EQUAL(n, 40 * 5 * 4 * 2);

    pnk_arena_t *a = pnk_arena_new(0);
    pnk_match_t m;
    clock_t start = clock();
    int hits = 0;
    for (int i = 0; i < 200000; i++) {
        snprintf(path, sizeof path, "/api/v1/ns%d/%s/%d/children", i % 40, res[i % 5], i);
        hits += pnk_router_match(r, PN_GET, path, a, &m, NULL) == 0;
        if (i % 1000 == 999) {
            pnk_arena_free(a);
            a = pnk_arena_new(0);
        }
    }
    double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    CU_ASSERT_EQUAL(hits, 200000);
    CU_ASSERT(secs < 5.0);
    pnk_arena_free(a);
    pnk_router_free(r);
}

void
register_router_tests(void)
{
    CU_pSuite s = CU_add_suite("router", NULL, NULL);
    CU_add_test(s, "add_rejects_bad_patterns", test_router_add_rejects_bad_patterns);
    CU_add_test(s, "add_rejects_duplicates_naming_both",
                test_router_add_rejects_duplicates_naming_both);
    CU_add_test(s, "add_checks_fields", test_router_add_checks_fields);
    CU_add_test(s, "match_params_and_encoding", test_router_match_params_and_encoding);
    CU_add_test(s, "literal_beats_param", test_router_literal_beats_param);
    CU_add_test(s, "404_405_and_head", test_router_404_405_and_head);
    CU_add_test(s, "explicit_head", test_router_explicit_head);
    CU_add_test(s, "rejects_bad_paths", test_router_rejects_bad_paths);
    CU_add_test(s, "owners", test_router_owners);
    CU_add_test(s, "methods", test_router_methods);
    CU_add_test(s, "many_routes_fast", test_router_many_routes_fast);
}
