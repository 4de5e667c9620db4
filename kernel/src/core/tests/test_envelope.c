/* The envelope helpers and the code-to-status table. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include <powernode/types.h>

#include "../envelope.h"

void register_envelope_tests(void);

static void
test_envelope_status_table(void)
{
    CU_ASSERT_EQUAL(pnk_err_status(PN_E_NOTFOUND), 404);
    CU_ASSERT_EQUAL(pnk_err_status(PN_E_INVALID), 422);
    CU_ASSERT_EQUAL(pnk_err_status(PN_E_HDRTOOLARGE), 431);
    CU_ASSERT_EQUAL(pnk_err_status(12345), 500);
    CU_ASSERT_EQUAL(pnk_status_err(413), PN_E_TOOLARGE);
    CU_ASSERT_STRING_EQUAL(pnk_status_reason(405), "Method Not Allowed");
}

static void
test_envelope_shapes(void)
{
    json_t *ok = pnk_envelope_ok(json_integer(1), NULL);
    CU_ASSERT_TRUE(json_is_true(json_object_get(ok, "success")));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(ok, "data")), 1);
    CU_ASSERT_PTR_NULL(json_object_get(ok, "meta"));
    json_decref(ok);

    json_t *e = pnk_envelope_error("file not found", NULL);
    CU_ASSERT_TRUE(json_is_false(json_object_get(e, "success")));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "error")), "file not found");
    CU_ASSERT_TRUE(json_is_array(json_object_get(e, "details")));
    json_decref(e);

    size_t n;
    char *t = pnk_envelope_error_text("bad", "name", "must not be empty", &n);
    CU_ASSERT_EQUAL(n, strlen(t));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "\"field\":\"name\""));
    free(t);
}

void
register_envelope_tests(void)
{
    CU_pSuite s = CU_add_suite("envelope", NULL, NULL);
    CU_add_test(s, "status_table", test_envelope_status_table);
    CU_add_test(s, "shapes", test_envelope_shapes);
}
