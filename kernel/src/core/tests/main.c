/* Runs the core suites (arena, envelope). */
#include <CUnit/Basic.h>

void register_arena_tests(void);
void register_envelope_tests(void);

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_arena_tests();
    register_envelope_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
