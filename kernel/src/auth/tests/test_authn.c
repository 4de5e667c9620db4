/* Authentication, authorization, login and /me through the real auth code on a real
 * database, with the minimal request layer of req_stub.c. Runs after test_auth_db.c, which
 * synced the permissions and created admin@example.com. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../auth.h"
#include "../password.h"
#include "forge.h"
#include "req_stub.h"
#include "testdb.h"

void register_authn_tests(void);

#define KEY "authn-test-key-0123456789abcdef0123456789"
#define SVC "authn-service-0123456789abcdef0123456789"
#define PASSWORD "member password 1"

static char account_id[37], admin_id[37], member_id[37], viewer_id[37], disabled_id[37];
static char other_account[37], other_user[37];

static int
add_user(const char *id, const char *acct, const char *email, const char *status, const char *role)
{
    char hash[PNK_PASSWORD_HASH_MAX], err[128];
    if (pnk_password_hash(PASSWORD, strlen(PASSWORD), hash, sizeof hash, err, sizeof err) != PN_OK)
        return -1;
    const char *u[5] = {id, acct, email, hash, status};
    const char *r[2] = {id, role};
    if (testdb_exec("INSERT INTO users (id, account_id, email, name, password_hash, status)"
                    " VALUES ($1, $2, $3, 'Test User', $4, $5)",
                    5, u, NULL, NULL) != PN_OK)
        return -1;
    return testdb_exec("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", 2, r, NULL,
                       NULL) == PN_OK
               ? 0
               : -1;
}

static int
setup(void)
{
    char err[256];
    pnk_auth_key_t keys[1] = {{"t1", KEY}};
    pnk_auth_config_t cfg = {.issuer = "https://pn.test",
                             .audience = "powernode",
                             .keys = keys,
                             .nkeys = 1,
                             .service_secret = SVC};
    if (pnk_auth_init(&cfg, err, sizeof err) != PN_OK) {
        fprintf(stderr, "auth init: %s\n", err);
        return 1;
    }
    pnk_arena_t *a = pnk_arena_new(0);
    pn_rows_t *rows = NULL;
    int rc = testdb_exec("SELECT u.account_id, u.id FROM users u WHERE email = 'Admin@Example.com'",
                         0, NULL, a, &rows);
    if (rc != PN_OK || pnk_rows_count(rows) != 1) {
        fprintf(stderr, "authn setup needs the admin made by the auth_db suite\n");
        pnk_arena_free(a);
        return 1;
    }
    snprintf(account_id, sizeof account_id, "%s", pnk_rows_value(rows, 0, 0));
    snprintf(admin_id, sizeof admin_id, "%s", pnk_rows_value(rows, 0, 1));
    pnk_arena_free(a);

    pnk_uuid_v7(member_id);
    pnk_uuid_v7(viewer_id);
    pnk_uuid_v7(disabled_id);
    pnk_uuid_v7(other_account);
    pnk_uuid_v7(other_user);
    const char *acct[1] = {other_account};
    if (add_user(member_id, account_id, "member@example.com", "active", PNK_ROLE_MEMBER_ID) ||
        add_user(viewer_id, account_id, "viewer@example.com", "active", PNK_ROLE_VIEWER_ID) ||
        add_user(disabled_id, account_id, "disabled@example.com", "disabled", PNK_ROLE_MEMBER_ID) ||
        testdb_exec("INSERT INTO accounts (id, name, slug) VALUES ($1, 'Other', 'other')", 1, acct,
                    NULL, NULL) != PN_OK ||
        add_user(other_user, other_account, "other@example.com", "active", PNK_ROLE_MEMBER_ID))
        return 1;
    return 0;
}

static int
teardown(void)
{
    pnk_auth_fini();
    return 0;
}

/* "Bearer <access token for user in acct>", malloc'd. */
static char *
bearer_for(const char *user, const char *acct)
{
    char *tok = NULL, err[128];
    if (pnk_auth_issue_access(user, acct, NULL, &tok, NULL, NULL, err, sizeof err) != PN_OK)
        return NULL;
    size_t n = strlen(tok) + 8;
    char *h = malloc(n);
    snprintf(h, n, "Bearer %s", tok);
    free(tok);
    return h;
}

static int
authn(const char *authorization, uint32_t flags, const char *perm, stub_req_t **out)
{
    stub_req_t *s = stub_req_new(testdb_pool(), flags, perm, authorization, NULL);
    int rc = pnk_auth_authenticate(&s->req);
    *out = s;
    return rc;
}

static void
test_authn_public_route_needs_nothing(void)
{
    stub_req_t *s;
    CU_ASSERT_EQUAL(authn(NULL, PN_ROUTE_PUBLIC, NULL, &s), PN_OK);
    CU_ASSERT_EQUAL(s->req.principal.kind, PNK_PRINCIPAL_NONE);
    CU_ASSERT_PTR_NULL(s->req.db); /* no query made */
    stub_req_free(s);
    /* Even a broken header is not read. */
    CU_ASSERT_EQUAL(authn("Bearer nonsense", PN_ROUTE_PUBLIC, NULL, &s), PN_OK);
    stub_req_free(s);
}

static void
test_authn_refuses_missing_or_bad_credentials(void)
{
    const char *bad[] = {NULL,
                         "",
                         "Bearer",
                         "Bearer ",
                         "Basic YWRtaW46cGFzcw==",
                         "Bearer a.b.c",
                         "BearerX abc",
                         "Bearer eyJhbGciOiJub25lIn0.e30."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        stub_req_t *s;
        CU_ASSERT_EQUAL(authn(bad[i], 0, "auth.me.read", &s), PN_E_UNAUTH);
        CU_ASSERT_EQUAL(s->req.err_code, PN_E_UNAUTH);
        CU_ASSERT_EQUAL(s->req.principal.kind, PNK_PRINCIPAL_NONE);
        CU_ASSERT_PTR_NOT_NULL(strstr(s->reply_headers, "WWW-Authenticate: Bearer"));
        CU_ASSERT_TRUE(strcmp(s->req.err_msg, "authentication required") == 0 ||
                       strcmp(s->req.err_msg, "invalid or expired token") == 0);
        /* The token never appears in the message. */
        CU_ASSERT_PTR_NULL(strstr(s->req.err_msg, "a.b.c"));
        stub_req_free(s);
    }
}

static void
test_authn_admin_holds_everything(void)
{
    char *h = bearer_for(admin_id, account_id);
    stub_req_t *s;
    CU_ASSERT_EQUAL_FATAL(authn(h, 0, "admin.system.read", &s), PN_OK);
    const pnk_principal_t *p = &s->req.principal;
    CU_ASSERT_EQUAL(p->kind, PNK_PRINCIPAL_USER);
    CU_ASSERT_TRUE(p->all_perms);
    CU_ASSERT_STRING_EQUAL(p->user_id, admin_id);
    CU_ASSERT_STRING_EQUAL(p->account_id, account_id);
    CU_ASSERT_STRING_EQUAL(p->email, "Admin@Example.com");
    CU_ASSERT_EQUAL(strlen(p->token_id), 36);
    CU_ASSERT_EQUAL(pnk_auth_authorize(&s->req), PN_OK);
    CU_ASSERT_TRUE(pnk_principal_can(p, "anything.at.all"));
    stub_req_free(s);
    free(h);
}

static void
test_authn_member_and_viewer_permissions(void)
{
    char *h = bearer_for(member_id, account_id);
    stub_req_t *s;
    CU_ASSERT_EQUAL_FATAL(authn(h, 0, "admin.system.read", &s), PN_OK);
    const pnk_principal_t *p = &s->req.principal;
    CU_ASSERT_FALSE(p->all_perms);
    CU_ASSERT_EQUAL_FATAL(p->nperms, 4);
    CU_ASSERT_STRING_EQUAL(p->perms[0], "auth.me.read");
    CU_ASSERT_STRING_EQUAL(p->perms[1], "auth.self.manage");
    CU_ASSERT_STRING_EQUAL(p->perms[2], "files.files.create");
    CU_ASSERT_STRING_EQUAL(p->perms[3], "files.files.read");
    CU_ASSERT_TRUE(pnk_principal_can(p, "files.files.create"));
    CU_ASSERT_FALSE(pnk_principal_can(p, "admin.system.read"));
    CU_ASSERT_EQUAL(pnk_auth_authorize(&s->req), PN_E_FORBIDDEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(s->req.err_msg, "admin.system.read"));
    stub_req_free(s);
    free(h);

    h = bearer_for(viewer_id, account_id);
    CU_ASSERT_EQUAL_FATAL(authn(h, 0, "files.files.read", &s), PN_OK);
    CU_ASSERT_EQUAL(pnk_auth_authorize(&s->req), PN_OK);
    CU_ASSERT_TRUE(pnk_principal_can(&s->req.principal, "auth.me.read"));
    CU_ASSERT_FALSE(pnk_principal_can(&s->req.principal, "files.files.create"));
    stub_req_free(s);
    free(h);
}

static void
test_authn_refuses_inactive_or_mismatched_principals(void)
{
    stub_req_t *s;
    char *h = bearer_for(disabled_id, account_id);
    CU_ASSERT_EQUAL(authn(h, 0, "auth.me.read", &s), PN_E_UNAUTH);
    stub_req_free(s);
    free(h);

    /* A real user with the wrong account in the token. */
    h = bearer_for(member_id, other_account);
    CU_ASSERT_EQUAL(authn(h, 0, "auth.me.read", &s), PN_E_UNAUTH);
    stub_req_free(s);
    free(h);

    /* Suspending the account locks out its valid tokens at once. */
    h = bearer_for(other_user, other_account);
    CU_ASSERT_EQUAL(authn(h, 0, "auth.me.read", &s), PN_OK);
    stub_req_free(s);
    const char *acct[1] = {other_account};
    CU_ASSERT_EQUAL(
        testdb_exec("UPDATE accounts SET status = 'suspended' WHERE id = $1", 1, acct, NULL, NULL),
        PN_OK);
    CU_ASSERT_EQUAL(authn(h, 0, "auth.me.read", &s), PN_E_UNAUTH);
    stub_req_free(s);
    CU_ASSERT_EQUAL(
        testdb_exec("UPDATE accounts SET status = 'active' WHERE id = $1", 1, acct, NULL, NULL),
        PN_OK);
    free(h);

    /* A role of another account assigned to a user grants nothing. */
    char role[37];
    pnk_uuid_v7(role);
    const char *r[3] = {role, other_account, member_id};
    CU_ASSERT_EQUAL(testdb_exec("INSERT INTO roles (id, account_id, name, all_permissions)"
                                " VALUES ($1, $2, 'foreign', true)",
                                2, r, NULL, NULL),
                    PN_OK);
    const char *ur[2] = {member_id, role};
    CU_ASSERT_EQUAL(
        testdb_exec("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", 2, ur, NULL, NULL),
        PN_OK);
    h = bearer_for(member_id, account_id);
    CU_ASSERT_EQUAL(authn(h, 0, "auth.me.read", &s), PN_OK);
    CU_ASSERT_FALSE(s->req.principal.all_perms);
    stub_req_free(s);
    free(h);
    CU_ASSERT_EQUAL(testdb_exec("DELETE FROM roles WHERE id = $1", 1, r, NULL, NULL), PN_OK);
}

static void
test_authn_service_and_user_routes_are_separate(void)
{
    char *tok = NULL, err[128], hs[4096];
    stub_req_t *s;
    CU_ASSERT_EQUAL_FATAL(pnk_auth_issue_service("worker-1", 300, &tok, err, sizeof err), PN_OK);
    snprintf(hs, sizeof hs, "Bearer %s", tok);
    free(tok);
    char *hu = bearer_for(admin_id, account_id);

    CU_ASSERT_EQUAL(authn(hs, PN_ROUTE_SERVICE, NULL, &s), PN_OK);
    CU_ASSERT_EQUAL(s->req.principal.kind, PNK_PRINCIPAL_SERVICE);
    CU_ASSERT_PTR_NULL(s->req.principal.user_id);
    CU_ASSERT_PTR_NULL(s->req.principal.account_id);
    CU_ASSERT_PTR_NOT_NULL(s->req.principal.token_id);
    CU_ASSERT_EQUAL(pnk_auth_authorize(&s->req), PN_OK);
    stub_req_free(s);

    CU_ASSERT_EQUAL(authn(hs, 0, "auth.me.read", &s), PN_E_UNAUTH);
    CU_ASSERT_STRING_EQUAL(s->req.err_msg, "user token required");
    stub_req_free(s);

    CU_ASSERT_EQUAL(authn(hu, PN_ROUTE_SERVICE, NULL, &s), PN_E_UNAUTH);
    CU_ASSERT_STRING_EQUAL(s->req.err_msg, "service token required");
    CU_ASSERT_EQUAL(s->req.principal.kind, PNK_PRINCIPAL_NONE);
    stub_req_free(s);
    free(hu);

    /* A token a worker signs itself with the shared secret, as documented in auth.h. */
    long long now = (long long)time(NULL);
    char payload[512];
    snprintf(payload, sizeof payload,
             "{\"iss\":\"https://pn.test\",\"aud\":\"powernode\",\"sub\":\"worker-2\","
             "\"typ\":\"service\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"jti\":\"w2-1\"}",
             now, now, now + 120);
    char *w =
        forge_token("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"service\"}", payload, SVC, 256);
    snprintf(hs, sizeof hs, "Bearer %s", w);
    free(w);
    CU_ASSERT_EQUAL(authn(hs, PN_ROUTE_SERVICE, NULL, &s), PN_OK);
    CU_ASSERT_STRING_EQUAL(s->req.principal.token_id, "w2-1");
    stub_req_free(s);
}

/* ---- the routes ---- */

static const pn_route_t *
route(const char *path)
{
    for (const pn_route_t *r = pnk_auth_routes; r->path; r++)
        if (strcmp(r->path, path) == 0)
            return r;
    return NULL;
}

static stub_req_t *
login(const char *email, const char *password, double *seconds)
{
    json_t *body = json_pack("{s:s, s:s}", "email", email, "password", password);
    char *text = json_dumps(body, 0);
    json_decref(body);
    stub_req_t *s = stub_req_new(testdb_pool(), PN_ROUTE_PUBLIC, NULL, NULL, text);
    free(text);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = route("/api/v1/auth/login")->fn(&s->req);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (seconds)
        *seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    CU_ASSERT_EQUAL(rc, s->status ? PN_OK : s->req.err_code);
    return s;
}

static void
test_routes_table(void)
{
    const pn_route_t *l = route("/api/v1/auth/login"), *m = route("/api/v1/auth/me");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(l->method, PN_POST);
    CU_ASSERT_EQUAL(l->flags, PN_ROUTE_PUBLIC);
    CU_ASSERT_PTR_NULL(l->perm);
    CU_ASSERT_PTR_NOT_NULL(strstr(l->req_schema, "\"additionalProperties\":false"));
    json_t *schema = json_loads(l->req_schema, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL(schema);
    json_decref(schema);
    CU_ASSERT_EQUAL(m->method, PN_GET);
    CU_ASSERT_STRING_EQUAL(m->perm, "auth.me.read");
    CU_ASSERT_EQUAL(m->flags, 0);
    /* Every schema of the table is JSON; every route is public, a service route, or names a
     * permission the kernel declares. */
    for (const pn_route_t *r = pnk_auth_routes; r->path; r++) {
        const char *texts[] = {r->req_schema, r->resp_schema};
        for (int i = 0; i < 2; i++) {
            json_t *j = texts[i] ? json_loads(texts[i], 0, NULL) : NULL;
            CU_ASSERT_TRUE(texts[i] == NULL || json_is_object(j));
            json_decref(j);
        }
        bool declared = false;
        for (const pn_perm_t *p = pnk_auth_perms; r->perm && p->name; p++)
            declared = declared || strcmp(p->name, r->perm) == 0;
        CU_ASSERT_TRUE(declared || (r->flags & (PN_ROUTE_PUBLIC | PN_ROUTE_SERVICE)));
    }
    const pn_route_t *ping = route("/api/v1/internal/ping");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ping);
    CU_ASSERT_EQUAL(ping->flags, PN_ROUTE_SERVICE);
}

static void
test_login_succeeds_and_token_works(void)
{
    stub_req_t *s = login("MEMBER@example.com", PASSWORD, NULL);
    CU_ASSERT_EQUAL_FATAL(s->status, 200);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s->data, "token_type")), "Bearer");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(s->data, "expires_in")),
                    PNK_AUTH_ACCESS_TTL);
    json_t *user = json_object_get(s->data, "user");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(user, "id")), member_id);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(user, "email")), "member@example.com");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(user, "account_id")), account_id);
    CU_ASSERT_PTR_NOT_NULL(strstr(s->reply_headers, "Cache-Control: no-store"));
    const char *member[1] = {member_id};
    CU_ASSERT_EQUAL(testdb_scalar("SELECT count(*) FROM users WHERE id = $1 AND "
                                  "last_login_at > now() - interval '1 minute'",
                                  1, member),
                    1);

    char h[4096];
    snprintf(h, sizeof h, "Bearer %s", json_string_value(json_object_get(s->data, "access_token")));
    stub_req_t *t;
    CU_ASSERT_EQUAL(authn(h, 0, "auth.me.read", &t), PN_OK);
    CU_ASSERT_STRING_EQUAL(t->req.principal.user_id, member_id);
    stub_req_free(t);
    stub_req_free(s);
}

/* One failed login: the message, and the time taken (fastest of three). */
static double
failed_login(const char *email, const char *password)
{
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double t = 0;
        stub_req_t *s = login(email, password, &t);
        CU_ASSERT_EQUAL(s->status, 0);
        CU_ASSERT_EQUAL(s->req.err_code, PN_E_UNAUTH);
        CU_ASSERT_STRING_EQUAL(s->req.err_msg, "invalid email or password");
        stub_req_free(s);
        best = t < best ? t : best;
    }
    return best;
}

static void
test_login_failures_look_alike(void)
{
    double wrong = failed_login("member@example.com", "not the password");
    double unknown = failed_login("nobody@example.com", "not the password");
    /* A disabled user with the right password gets the same answer. */
    double disabled = failed_login("disabled@example.com", PASSWORD);
    /* Every path runs argon2: an unknown email is not answered noticeably faster. */
    CU_ASSERT_TRUE(unknown > wrong / 3);
    CU_ASSERT_TRUE(disabled > wrong / 3);
}

static void
test_me_lists_user_account_roles_permissions(void)
{
    char *h = bearer_for(viewer_id, account_id);
    stub_req_t *s;
    CU_ASSERT_EQUAL_FATAL(authn(h, 0, "auth.me.read", &s), PN_OK);
    CU_ASSERT_EQUAL_FATAL(route("/api/v1/auth/me")->fn(&s->req), PN_OK);
    CU_ASSERT_EQUAL(s->status, 200);
    json_t *d = s->data;
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(d, "user"), "email")),
                           "viewer@example.com");
    CU_ASSERT_PTR_NULL(json_object_get(json_object_get(d, "user"), "password_hash"));
    CU_ASSERT_STRING_EQUAL(
        json_string_value(json_object_get(json_object_get(d, "account"), "slug")), "default");
    json_t *roles = json_object_get(d, "roles");
    CU_ASSERT_EQUAL(json_array_size(roles), 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(roles, 0), "name")),
                           "viewer");
    json_t *perms = json_object_get(d, "permissions");
    CU_ASSERT_EQUAL(json_array_size(perms), 3);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(perms, 0)), "auth.me.read");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(perms, 1)), "auth.self.manage");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(perms, 2)), "files.files.read");
    stub_req_free(s);
    free(h);

    /* Admin: every registered permission (not the stale rows left in the table). */
    h = bearer_for(admin_id, account_id);
    CU_ASSERT_EQUAL_FATAL(authn(h, 0, "auth.me.read", &s), PN_OK);
    CU_ASSERT_EQUAL_FATAL(route("/api/v1/auth/me")->fn(&s->req), PN_OK);
    perms = json_object_get(s->data, "permissions");
    size_t nreg = 0;
    const char *const *reg = pnk_auth_registered_perms(&nreg);
    CU_ASSERT_EQUAL_FATAL(json_array_size(perms), nreg);
    for (size_t i = 0; i < nreg; i++)
        CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(perms, i)), reg[i]);
    CU_ASSERT_TRUE(testdb_scalar("SELECT count(*) FROM permissions", 0, NULL) > (long)nreg);
    stub_req_free(s);
    free(h);
}

void
register_authn_tests(void)
{
    CU_pSuite s = CU_add_suite("authn", setup, teardown);
    CU_add_test(s, "public route needs nothing", test_authn_public_route_needs_nothing);
    CU_add_test(s, "refuses missing or bad credentials",
                test_authn_refuses_missing_or_bad_credentials);
    CU_add_test(s, "admin holds everything", test_authn_admin_holds_everything);
    CU_add_test(s, "member and viewer permissions", test_authn_member_and_viewer_permissions);
    CU_add_test(s, "refuses inactive or mismatched principals",
                test_authn_refuses_inactive_or_mismatched_principals);
    CU_add_test(s, "service and user routes are separate",
                test_authn_service_and_user_routes_are_separate);
    CU_add_test(s, "routes table", test_routes_table);
    CU_add_test(s, "login succeeds and token works", test_login_succeeds_and_token_works);
    CU_add_test(s, "login failures look alike", test_login_failures_look_alike);
    CU_add_test(s, "me lists user, account, roles, permissions",
                test_me_lists_user_account_roles_permissions);
}
