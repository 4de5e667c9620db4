/* Runs the events suites that need a real Redis (PN_TEST_REDIS_URL; databases 9 and 10). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

void register_publish_tests(void);

int
main(void)
{
    const char *u = getenv("PN_TEST_REDIS_URL");

    if (u == NULL || u[0] == '\0') {
        fprintf(stderr, "FAIL: PN_TEST_REDIS_URL is not set; these tests need a real Redis "
                        "(e.g. redis://127.0.0.1:55801/0; databases 9 and 10 are used).\n");
        return 1;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_publish_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
