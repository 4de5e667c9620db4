/* Against PostgreSQL: the core migration (tables, constraints, seeded roles), the permission
 * sync with its grants, and creating the first administrator. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../auth.h"
#include "../password.h"
#include "testdb.h"

void register_auth_db_tests(int applied);

static int first_applied;

static long
count(const char *sql)
{
    return testdb_scalar(sql, 0, NULL);
}

static long
count1(const char *sql, const char *p1)
{
    return testdb_scalar(sql, 1, &p1);
}

/* Comma-joined first column of a query, ordered by it. */
static void
column(const char *sql, const char *p1, char *out, size_t n)
{
    pnk_arena_t *a = pnk_arena_new(0);
    pn_rows_t *rows = NULL;
    out[0] = '\0';
    if (testdb_exec(sql, p1 ? 1 : 0, &p1, a, &rows) == PN_OK)
        for (int i = 0; i < pnk_rows_count(rows); i++) {
            size_t len = strlen(out);
            snprintf(out + len, n - len, "%s%s", i ? "," : "", pnk_rows_value(rows, i, 0));
        }
    pnk_arena_free(a);
}

static void
test_migration_applies_cleanly(void)
{
    char err[512];
    int again = -1;
    CU_ASSERT_TRUE(first_applied >= 2); /* 0001 and 0002 at least */
    pnk_migration_source_t src = {.owner = "core", .version = "test", .dir = PN_SQL_DIR};
    CU_ASSERT_EQUAL(pnk_db_migrate(testdb_pool(), &src, 1, &again, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(again, 0);

    const char *tables[] = {
        "accounts",   "users",          "roles",    "permissions", "role_permissions",
        "user_roles", "refresh_tokens", "api_keys", "audit_logs",  "user_recovery_codes"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        CU_ASSERT_EQUAL(count1("SELECT count(*) FROM pg_tables WHERE schemaname = "
                               "current_schema() AND tablename = $1",
                               tables[i]),
                        1);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM roles WHERE system AND account_id IS NULL"), 3);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM roles WHERE all_permissions"), 1);
    CU_ASSERT_EQUAL(count1("SELECT count(*) FROM roles WHERE id = $1 AND name = 'admin' AND "
                           "all_permissions",
                           PNK_ROLE_ADMIN_ID),
                    1);
    CU_ASSERT_EQUAL(
        count1("SELECT count(*) FROM roles WHERE id = $1 AND name = 'member'", PNK_ROLE_MEMBER_ID),
        1);
    CU_ASSERT_EQUAL(
        count1("SELECT count(*) FROM roles WHERE id = $1 AND name = 'viewer'", PNK_ROLE_VIEWER_ID),
        1);
    /* The seeded ids are shaped as UUIDv7. */
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM roles WHERE substr(id::text, 15, 1) = '7'"), 3);
}

static void
test_migration_constraints(void)
{
    /* Two system roles with one name: NULLS NOT DISTINCT makes the NULL accounts collide. */
    CU_ASSERT_EQUAL(testdb_exec("INSERT INTO roles (id, name) VALUES "
                                "('0190bbbb-0000-7000-8000-000000000001', 'admin')",
                                0, NULL, NULL, NULL),
                    PN_E_CONFLICT);
    CU_ASSERT_EQUAL(testdb_exec("INSERT INTO accounts (id, name, slug) VALUES "
                                "('0190bbbb-0000-7000-8000-0000000000a1', 'A', 'cons-a'),"
                                "('0190bbbb-0000-7000-8000-0000000000a2', 'B', 'cons-b')",
                                0, NULL, NULL, NULL),
                    PN_OK);
    CU_ASSERT_EQUAL(testdb_exec("INSERT INTO users (id, account_id, email) VALUES "
                                "('0190bbbb-0000-7000-8000-0000000000b1',"
                                " '0190bbbb-0000-7000-8000-0000000000a1', 'Same@Example.com')",
                                0, NULL, NULL, NULL),
                    PN_OK);
    /* Email unique per account, whatever the case... */
    CU_ASSERT_EQUAL(testdb_exec("INSERT INTO users (id, account_id, email) VALUES "
                                "('0190bbbb-0000-7000-8000-0000000000b2',"
                                " '0190bbbb-0000-7000-8000-0000000000a1', 'same@example.COM')",
                                0, NULL, NULL, NULL),
                    PN_E_CONFLICT);
    /* ...but the same address may exist in another account. */
    CU_ASSERT_EQUAL(testdb_exec("INSERT INTO users (id, account_id, email) VALUES "
                                "('0190bbbb-0000-7000-8000-0000000000b3',"
                                " '0190bbbb-0000-7000-8000-0000000000a2', 'same@example.com')",
                                0, NULL, NULL, NULL),
                    PN_OK);
    CU_ASSERT_NOT_EQUAL(testdb_exec("INSERT INTO users (id, account_id, email, status) VALUES "
                                    "('0190bbbb-0000-7000-8000-0000000000b4',"
                                    " '0190bbbb-0000-7000-8000-0000000000a2', 'x@y.z', 'gone')",
                                    0, NULL, NULL, NULL),
                        PN_OK);
    CU_ASSERT_EQUAL(testdb_exec("INSERT INTO audit_logs (id, account_id, user_id, action, result)"
                                " VALUES ('0190bbbb-0000-7000-8000-0000000000c1',"
                                " '0190bbbb-0000-7000-8000-0000000000a1',"
                                " '0190bbbb-0000-7000-8000-0000000000b1', 'test', 'success')",
                                0, NULL, NULL, NULL),
                    PN_OK);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit_logs WHERE details = '{}'::jsonb"), 1);
    /* Deleting a user keeps its audit trail; deleting the account removes everything. */
    CU_ASSERT_EQUAL(
        testdb_exec("DELETE FROM users WHERE id = '0190bbbb-0000-7000-8000-0000000000b1'", 0, NULL,
                    NULL, NULL),
        PN_OK);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit_logs WHERE user_id IS NULL"), 1);
    CU_ASSERT_EQUAL(
        testdb_exec("DELETE FROM accounts WHERE slug IN ('cons-a', 'cons-b')", 0, NULL, NULL, NULL),
        PN_OK);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit_logs"), 0);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM users"), 0);
}

static const pn_perm_t files_perms[] = {
    {"files.files.read", "Read files", "Files"},
    {"files.files.create", "Upload files", "Files"},
    PN_PERM_END,
};

/* The registry as the app builds it: one pointer per permission, one owner each. */
static size_t
registry(const pn_perm_t **perms, const char **owners)
{
    size_t n = 0;
    for (const pn_perm_t *p = pnk_auth_perms; p->name; p++, n++) {
        perms[n] = p;
        owners[n] = "kernel";
    }
    for (const pn_perm_t *p = files_perms; p->name; p++, n++) {
        perms[n] = p;
        owners[n] = "files";
    }
    return n;
}

static void
test_sync_permissions(void)
{
    const pn_perm_t *perms[8];
    const char *owners[8];
    char err[256], got[512];
    size_t n = registry(perms, owners);

    CU_ASSERT_EQUAL_FATAL(
        pnk_auth_sync_permissions(testdb_pool(), perms, owners, n, err, sizeof err), PN_OK);
    column("SELECT name || '/' || owner FROM permissions ORDER BY name COLLATE \"C\"", NULL, got,
           sizeof got);
    CU_ASSERT_STRING_EQUAL(got, "admin.system.read/kernel,auth.me.read/kernel,"
                                "auth.self.manage/kernel,"
                                "files.files.create/files,files.files.read/files");
    column("SELECT permission FROM role_permissions WHERE role_id = $1 ORDER BY permission COLLATE "
           "\"C\"",
           PNK_ROLE_MEMBER_ID, got, sizeof got);
    CU_ASSERT_STRING_EQUAL(got,
                           "auth.me.read,auth.self.manage,files.files.create,files.files.read");
    column("SELECT permission FROM role_permissions WHERE role_id = $1 ORDER BY permission COLLATE "
           "\"C\"",
           PNK_ROLE_VIEWER_ID, got, sizeof got);
    /* Read-only, plus the self-service namespace. */
    CU_ASSERT_STRING_EQUAL(got, "auth.me.read,auth.self.manage,files.files.read");
    CU_ASSERT_EQUAL(
        count1("SELECT count(*) FROM role_permissions WHERE role_id = $1", PNK_ROLE_ADMIN_ID), 0);

    size_t nreg = 0;
    const char *const *reg = pnk_auth_registered_perms(&nreg);
    CU_ASSERT_EQUAL_FATAL(nreg, 5);
    CU_ASSERT_STRING_EQUAL(reg[0], "admin.system.read");
    CU_ASSERT_STRING_EQUAL(reg[4], "files.files.read");

    /* Again, with a new description: updated in place, nothing duplicated. */
    pn_perm_t changed = {"files.files.read", "Read and download files", "Files"};
    CU_ASSERT_STRING_EQUAL_FATAL(perms[3]->name, "files.files.read");
    perms[3] = &changed;
    CU_ASSERT_EQUAL(pnk_auth_sync_permissions(testdb_pool(), perms, owners, n, err, sizeof err),
                    PN_OK);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM permissions"), 5);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM role_permissions"), 7);
    CU_ASSERT_EQUAL(count1("SELECT count(*) FROM permissions WHERE description = $1",
                           "Read and download files"),
                    1);

    /* A permission no longer declared keeps its row and its grants; only the registered set
     * of this process shrinks. */
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM permissions WHERE owner = 'kernel'"), 3);
    CU_ASSERT_EQUAL(pnk_auth_sync_permissions(testdb_pool(), perms, owners, 2, err, sizeof err),
                    PN_OK);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM permissions"), 5);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM role_permissions"), 7);
    reg = pnk_auth_registered_perms(&nreg);
    CU_ASSERT_EQUAL(nreg, 2);
    /* Back to the full set for the tests that follow. */
    CU_ASSERT_EQUAL(pnk_auth_sync_permissions(testdb_pool(), perms, owners, n, err, sizeof err),
                    PN_OK);
}

static void
test_sync_permissions_refusals(void)
{
    const pn_perm_t *perms[8];
    const char *owners[8];
    char err[256];
    size_t n = registry(perms, owners);

    pn_perm_t dup = {"auth.me.read", "again", "X"};
    perms[n] = &dup;
    owners[n] = "rogue";
    CU_ASSERT_EQUAL(pnk_auth_sync_permissions(testdb_pool(), perms, owners, n + 1, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "auth.me.read"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "kernel"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "rogue"));

    const char *bad_names[] = {"files.read",   "Files.files.read",      "files..read",
                               "files.files.", "files.files.read;drop", ""};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        pn_perm_t bad = {bad_names[i], "x", "X"};
        perms[n] = &bad;
        CU_ASSERT_EQUAL(
            pnk_auth_sync_permissions(testdb_pool(), perms, owners, n + 1, err, sizeof err),
            PN_E_INVALID);
    }
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM permissions"), 5);
    size_t nreg = 0;
    (void)pnk_auth_registered_perms(&nreg);
    CU_ASSERT_EQUAL(nreg, 5);

    /* Without owners everything is the kernel's. */
    pn_perm_t extra = {"admin.users.read", "List users", "Administration"};
    const pn_perm_t *one[1] = {&extra};
    CU_ASSERT_EQUAL(pnk_auth_sync_permissions(testdb_pool(), one, NULL, 1, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM permissions WHERE name = 'admin.users.read' AND "
                          "owner = 'kernel'"),
                    1);
    /* An admin.* read permission goes to nobody but admin. */
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM role_permissions WHERE permission = "
                          "'admin.users.read'"),
                    0);
    CU_ASSERT_EQUAL(pnk_auth_sync_permissions(testdb_pool(), perms, owners, n, err, sizeof err),
                    PN_OK);
}

static void
test_create_admin(void)
{
    char err[256], gen[32], hash[PNK_PASSWORD_HASH_MAX];
    bool created = false;

    CU_ASSERT_EQUAL_FATAL(pnk_auth_create_admin(testdb_pool(), "Admin@Example.com",
                                                "first admin password", gen, sizeof gen, &created,
                                                err, sizeof err),
                          PN_OK);
    CU_ASSERT_TRUE(created);
    CU_ASSERT_STRING_EQUAL(gen, "");
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM accounts"), 1);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM accounts WHERE slug = 'default' AND "
                          "status = 'active'"),
                    1);
    CU_ASSERT_EQUAL(count1("SELECT count(*) FROM users u JOIN user_roles ur ON ur.user_id = u.id"
                           " WHERE u.email = 'Admin@Example.com' AND u.status = 'active'"
                           "   AND ur.role_id = $1 AND u.password_changed_at IS NOT NULL",
                           PNK_ROLE_ADMIN_ID),
                    1);
    pnk_arena_t *a = pnk_arena_new(0);
    pn_rows_t *rows = NULL;
    CU_ASSERT_EQUAL_FATAL(testdb_exec("SELECT password_hash FROM users WHERE email = "
                                      "'Admin@Example.com'",
                                      0, NULL, a, &rows),
                          PN_OK);
    snprintf(hash, sizeof hash, "%s", pnk_rows_value(rows, 0, 0));
    CU_ASSERT_TRUE(pnk_password_verify(hash, "first admin password", 20));
    CU_ASSERT_FALSE(pnk_password_verify(hash, "first admin passwore", 20));

    /* The same address in any case: nothing happens, the password stays. */
    CU_ASSERT_EQUAL(pnk_auth_create_admin(testdb_pool(), "admin@example.COM", NULL, gen, sizeof gen,
                                          &created, err, sizeof err),
                    PN_OK);
    CU_ASSERT_FALSE(created);
    CU_ASSERT_STRING_EQUAL(gen, "");
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM users"), 1);

    /* A second admin with a generated password, in the same (oldest) account. */
    CU_ASSERT_EQUAL_FATAL(pnk_auth_create_admin(testdb_pool(), "ops@example.com", NULL, gen,
                                                sizeof gen, &created, err, sizeof err),
                          PN_OK);
    CU_ASSERT_TRUE(created);
    CU_ASSERT_EQUAL(strlen(gen), PNK_PASSWORD_GEN_LEN);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM accounts"), 1);
    CU_ASSERT_EQUAL_FATAL(testdb_exec("SELECT password_hash FROM users WHERE email = "
                                      "'ops@example.com'",
                                      0, NULL, a, &rows),
                          PN_OK);
    CU_ASSERT_TRUE(pnk_password_verify(pnk_rows_value(rows, 0, 0), gen, strlen(gen)));
    pnk_arena_free(a);

    /* Refusals change nothing. */
    CU_ASSERT_EQUAL(pnk_auth_create_admin(testdb_pool(), "weak@example.com", "short", gen,
                                          sizeof gen, &created, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "at least 12"));
    CU_ASSERT_EQUAL(pnk_auth_create_admin(testdb_pool(), "not-an-email", "long enough password",
                                          gen, sizeof gen, &created, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_auth_create_admin(testdb_pool(), "a b@example.com", "long enough password",
                                          gen, sizeof gen, &created, err, sizeof err),
                    PN_E_INVALID);
    char small[8];
    CU_ASSERT_EQUAL(pnk_auth_create_admin(testdb_pool(), "gen@example.com", NULL, small,
                                          sizeof small, &created, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_FALSE(created);
    CU_ASSERT_EQUAL(count("SELECT count(*) FROM users"), 2);
}

void
register_auth_db_tests(int applied)
{
    first_applied = applied;
    CU_pSuite s = CU_add_suite("auth_db", NULL, NULL);
    CU_add_test(s, "migration applies cleanly", test_migration_applies_cleanly);
    CU_add_test(s, "migration constraints", test_migration_constraints);
    CU_add_test(s, "sync permissions", test_sync_permissions);
    CU_add_test(s, "sync permissions refusals", test_sync_permissions_refusals);
    CU_add_test(s, "create admin", test_create_admin);
}
