/* apikey.c: pnk_apikey_create (what the identity routes call) and authentication with the
 * key it returns, on the real database through req_stub.c. Runs after test_authn.c, whose
 * users it reuses. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../apikey.h"
#include "../auth.h"
#include "../codec.h"
#include "req_stub.h"
#include "testdb.h"

void register_apikey_tests(void);

#define KEY "apikey-test-key-0123456789abcdef0123456789"

static char account_id[37], admin_id[37], member_id[37], other_user[37];

static int
lookup(const char *email, char *id, char *acct)
{
    pnk_arena_t *a = pnk_arena_new(0);
    pn_rows_t *rows = NULL;
    int ok = testdb_exec("SELECT id, account_id FROM users WHERE email = $1", 1, &email, a,
                         &rows) == PN_OK &&
             pnk_rows_count(rows) == 1;
    if (ok) {
        snprintf(id, 37, "%s", pnk_rows_value(rows, 0, 0));
        if (acct)
            snprintf(acct, 37, "%s", pnk_rows_value(rows, 0, 1));
    }
    pnk_arena_free(a);
    return ok ? 0 : -1;
}

static int
setup(void)
{
    char err[256];
    pnk_auth_key_t keys[1] = {{"t1", KEY}};
    pnk_auth_config_t cfg = {
        .issuer = "https://pn.test", .audience = "powernode", .keys = keys, .nkeys = 1};
    if (pnk_auth_init(&cfg, err, sizeof err) != PN_OK)
        return 1;
    if (lookup("Admin@Example.com", admin_id, account_id) ||
        lookup("member@example.com", member_id, NULL) ||
        lookup("other@example.com", other_user, NULL)) {
        fprintf(stderr, "apikey tests need the users of the authn suite\n");
        return 1;
    }
    return 0;
}

static int
teardown(void)
{
    pnk_auth_fini();
    return 0;
}

/* A request authenticated as user (an access token), or with the credential header h. */
static stub_req_t *
as(const char *user, const char *h)
{
    char *tok = NULL, err[128], hdr[512];
    if (!h) {
        if (pnk_auth_issue_access(user, account_id, NULL, &tok, NULL, NULL, err, sizeof err) !=
            PN_OK)
            return NULL;
        snprintf(hdr, sizeof hdr, "Bearer %s", tok);
        free(tok);
        h = hdr;
    }
    stub_req_t *s = stub_req_new(testdb_pool(), 0, "auth.me.read", h, NULL);
    s->last_rc = pnk_auth_authenticate(&s->req);
    return s;
}

static int
create(const char *caller, const char *owner, const char *const *perms, size_t n,
       const char *expires, json_t **out)
{
    stub_req_t *s = as(caller, NULL);
    CU_ASSERT_EQUAL_FATAL(s->last_rc, PN_OK);
    int rc = pnk_apikey_create(&s->req, owner, "ci key", perms, n, expires, out);
    stub_req_free(s);
    return rc;
}

static void
test_apikey_create_then_authenticate(void)
{
    const char *perms[] = {"files.files.read", "auth.me.read", "files.files.read"};
    json_t *out = NULL;
    CU_ASSERT_EQUAL_FATAL(create(admin_id, member_id, perms, 3, NULL, &out), PN_OK);
    const char *key = json_string_value(json_object_get(out, "key"));
    const char *id = json_string_value(json_object_get(out, "id"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    CU_ASSERT_EQUAL(strlen(key), 4 + 8 + 1 + 43);
    CU_ASSERT_TRUE(pnk_apikey_shaped(key));
    CU_ASSERT_EQUAL(strncmp(key + 4, json_string_value(json_object_get(out, "prefix")), 8), 0);
    json_t *p = json_object_get(out, "permissions");
    CU_ASSERT_EQUAL(json_array_size(p), 2); /* duplicates collapse, sorted */
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(p, 0)), "auth.me.read");
    CU_ASSERT_PTR_NULL(json_object_get(out, "key_hash"));

    /* Only SHA-256 of the key is stored. */
    char hash[65];
    pnk_codec_sha256_hex(key, strlen(key), hash);
    const char *hp[] = {id, hash};
    CU_ASSERT_EQUAL(testdb_scalar("SELECT count(*) FROM api_keys WHERE id = $1"
                                  " AND key_hash = decode($2, 'hex')",
                                  2, hp),
                    1);

    char h[128];
    snprintf(h, sizeof h, "Bearer %s", key);
    stub_req_t *s = as(NULL, h);
    CU_ASSERT_EQUAL(s->last_rc, PN_OK);
    const pnk_principal_t *pr = &s->req.principal;
    CU_ASSERT_EQUAL(pr->kind, PNK_PRINCIPAL_APIKEY);
    CU_ASSERT_STRING_EQUAL(pr->user_id, member_id);
    CU_ASSERT_STRING_EQUAL(pr->token_id, id);
    CU_ASSERT_EQUAL_FATAL(pr->nperms, 2);
    CU_ASSERT_TRUE(pnk_principal_can(pr, "files.files.read"));
    CU_ASSERT_FALSE(pnk_principal_can(pr, "files.files.create")); /* the member has it */
    stub_req_free(s);

    /* One character changed is another key. */
    h[strlen(h) - 2] = h[strlen(h) - 2] == 'A' ? 'B' : 'A';
    s = as(NULL, h);
    CU_ASSERT_EQUAL(s->last_rc, PN_E_UNAUTH);
    stub_req_free(s);
    json_decref(out);
}

static void
test_apikey_create_refusals(void)
{
    json_t *out = NULL;
    const char *admin_perm[] = {"admin.system.read"};
    const char *unknown[] = {"nothing.like.this"};
    const char *ok[] = {"auth.me.read"};

    /* Nobody grants what they lack. */
    CU_ASSERT_EQUAL(create(member_id, member_id, admin_perm, 1, NULL, &out), PN_E_FORBIDDEN);
    /* Not even an admin grants what is not registered. */
    CU_ASSERT_EQUAL(create(admin_id, member_id, unknown, 1, NULL, &out), PN_E_INVALID);
    CU_ASSERT_EQUAL(create(admin_id, member_id, ok, 0, NULL, &out), PN_E_INVALID);
    CU_ASSERT_EQUAL(create(admin_id, member_id, ok, 1, "2001-01-01T00:00:00Z", &out), PN_E_INVALID);
    CU_ASSERT_EQUAL(create(admin_id, member_id, ok, 1, "next tuesday-ish", &out), PN_E_INVALID);
    /* Users of another account, and non-ids, are not found. */
    CU_ASSERT_EQUAL(create(admin_id, other_user, ok, 1, NULL, &out), PN_E_NOTFOUND);
    CU_ASSERT_EQUAL(create(admin_id, "not-a-uuid", ok, 1, NULL, &out), PN_E_NOTFOUND);
    CU_ASSERT_PTR_NULL(out);

    CU_ASSERT_EQUAL(create(admin_id, member_id, ok, 1, "2999-01-01T00:00:00Z", &out), PN_OK);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(out, "expires_at"));
    json_decref(out);

    stub_req_t *s = as(admin_id, NULL);
    CU_ASSERT_EQUAL(pnk_apikey_create(&s->req, member_id, "", ok, 1, NULL, &out), PN_E_INVALID);
    stub_req_free(s);
}

void
register_apikey_tests(void)
{
    CU_pSuite s = CU_add_suite("apikey", setup, teardown);
    CU_add_test(s, "create, then authenticate", test_apikey_create_then_authenticate);
    CU_add_test(s, "create refusals", test_apikey_create_refusals);
}
