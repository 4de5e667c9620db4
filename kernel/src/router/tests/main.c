/* Runs the router area's suites: routing, JSON Schema, decoding, OpenAPI. */
#include <CUnit/Basic.h>

void register_router_tests(void);
void register_schema_tests(void);
void register_decode_tests(void);
void register_openapi_tests(void);

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_router_tests();
    register_schema_tests();
    register_decode_tests();
    register_openapi_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
