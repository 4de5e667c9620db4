/* Runs the config suites (file loading, declared keys, lists and stray-key checks). */
#include <CUnit/Basic.h>

void register_load_tests(void);
void register_declare_tests(void);
void register_lists_tests(void);

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_load_tests();
    register_declare_tests();
    register_lists_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
