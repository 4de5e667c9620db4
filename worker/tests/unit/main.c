/* CUnit runner for the worker's unit tests. */
#include <CUnit/Basic.h>

#include "suites.h"

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    add_retry_tests();
    add_cron_tests();
    add_payload_tests();
    add_config_tests();
    add_misc_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    printf("%u passed, %u failed\n", CU_get_number_of_tests_run() - CU_get_number_of_tests_failed(),
           CU_get_number_of_tests_failed());
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
