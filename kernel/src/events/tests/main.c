/* Runs the pure events suites: channel rules, ids, the subscriber filter and SSE framing. */
#include <CUnit/Basic.h>

void register_rules_tests(void);

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_rules_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
