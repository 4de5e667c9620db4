/* Pagination, id, timestamp and permission-name checks. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "../identity_util.h"

void register_identity_util_tests(void);

static void
test_page_defaults_and_bounds(void)
{
    pnk_identity_page_t pg;
    const char *field = NULL;

    CU_ASSERT_EQUAL(pnk_identity_page_parse(NULL, NULL, &pg, &field), PN_OK);
    CU_ASSERT_EQUAL(pg.page, 1);
    CU_ASSERT_EQUAL(pg.per_page, PNK_IDENTITY_PER_PAGE_DEFAULT);
    CU_ASSERT_EQUAL(pg.offset, 0);
    CU_ASSERT_EQUAL(pnk_identity_page_parse("3", "10", &pg, &field), PN_OK);
    CU_ASSERT_EQUAL(pg.offset, 20);
    CU_ASSERT_EQUAL(pnk_identity_page_parse("1", "100", &pg, &field), PN_OK);

    const char *bad_pages[] = {
        "0", "-1", "+1", "01", "1.0", " 1", "1 ", "", "abc", "100001", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_pages / sizeof bad_pages[0]; i++) {
        field = NULL;
        CU_ASSERT_EQUAL(pnk_identity_page_parse(bad_pages[i], NULL, &pg, &field), PN_E_INVALID);
        CU_ASSERT_STRING_EQUAL(field ? field : "", "page");
    }
    const char *bad_sizes[] = {"0", "101", "1e2", "-5"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        field = NULL;
        CU_ASSERT_EQUAL(pnk_identity_page_parse("1", bad_sizes[i], &pg, &field), PN_E_INVALID);
        CU_ASSERT_STRING_EQUAL(field ? field : "", "per_page");
    }
}

static void
test_page_meta(void)
{
    pnk_identity_page_t pg = {2, 10, 10};
    json_t *m = pnk_identity_page_meta(&pg, 21);
    json_t *p = json_object_get(m, "pagination");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "page")), 2);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "per_page")), 10);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "total")), 21);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "total_pages")), 3);
    json_decref(m);
    m = pnk_identity_page_meta(&pg, 0);
    CU_ASSERT_EQUAL(
        json_integer_value(json_object_get(json_object_get(m, "pagination"), "total_pages")), 0);
    json_decref(m);
}

static void
test_uuid(void)
{
    CU_ASSERT_TRUE(pnk_identity_uuid_ok("01900000-0000-7000-8000-000000000001"));
    CU_ASSERT_TRUE(pnk_identity_uuid_ok("0190ABCD-0000-7000-8000-00000000000F"));
    CU_ASSERT_FALSE(pnk_identity_uuid_ok(NULL));
    CU_ASSERT_FALSE(pnk_identity_uuid_ok(""));
    CU_ASSERT_FALSE(pnk_identity_uuid_ok("01900000000070008000000000000001"));
    CU_ASSERT_FALSE(pnk_identity_uuid_ok("01900000-0000-7000-8000-00000000000g"));
    CU_ASSERT_FALSE(pnk_identity_uuid_ok("01900000-0000-7000-8000-0000000000011"));
    CU_ASSERT_FALSE(pnk_identity_uuid_ok("'; DROP TABLE users; --0000-00000000"));
}

static void
test_rfc3339(void)
{
    const char *good[] = {"2024-05-01T12:30:00Z", "2024-05-01t12:30:00z",
                          "2024-05-01T12:30:00.123456Z", "2024-05-01T12:30:00+02:00",
                          "2024-12-31T23:59:60-08:30"};
    const char *bad[] = {"2024-05-01",
                         "2024-05-01 12:30:00Z",
                         "2024-05-01T12:30:00",
                         "2024-13-01T00:00:00Z",
                         "2024-05-01T24:00:00Z",
                         "2024-05-01T12:30:00.Z",
                         "2024-05-01T12:30:00+0200",
                         "2024-05-01T12:30:00Zjunk",
                         "now",
                         "2024-05-01T12:30:00.12345678901Z"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CU_ASSERT_TRUE(pnk_identity_rfc3339_ok(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_FALSE(pnk_identity_rfc3339_ok(bad[i]));
}

static void
test_perm_names(void)
{
    CU_ASSERT_TRUE(pnk_identity_perm_name_ok("admin.users.read"));
    CU_ASSERT_TRUE(pnk_identity_perm_name_ok("files.file_versions.read2"));
    CU_ASSERT_FALSE(pnk_identity_perm_name_ok("admin.users"));
    CU_ASSERT_FALSE(pnk_identity_perm_name_ok("Admin.users.read"));
    CU_ASSERT_FALSE(pnk_identity_perm_name_ok("admin..read"));
    CU_ASSERT_FALSE(pnk_identity_perm_name_ok("admin.users.read."));
    CU_ASSERT_FALSE(pnk_identity_perm_name_ok("admin.users.*"));
    CU_ASSERT_FALSE(pnk_identity_perm_name_ok(""));
}

void
register_identity_util_tests(void)
{
    CU_pSuite s = CU_add_suite("identity_util", NULL, NULL);
    CU_add_test(s, "page defaults and bounds", test_page_defaults_and_bounds);
    CU_add_test(s, "page meta", test_page_meta);
    CU_add_test(s, "uuid", test_uuid);
    CU_add_test(s, "rfc3339", test_rfc3339);
    CU_add_test(s, "permission names", test_perm_names);
}
