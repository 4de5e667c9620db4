/* Runs the redis suites against the Redis named by PN_TEST_REDIS_URL. */
#include <CUnit/Basic.h>
#include <stdio.h>

#include "helpers.h"

void register_url_tests(void);
void register_command_tests(void);
void register_cache_tests(void);
void register_pubsub_tests(void);
void register_job_tests(void);
void register_init_tests(void);

int
main(void)
{
    if (!th_env_url())
        return 1;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_url_tests();
    register_command_tests();
    register_cache_tests();
    register_pubsub_tests();
    register_job_tests();
    register_init_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "FAIL: no test ran (a suite setup failed?)\n");
        return 1;
    }
    return failed ? 1 : 0;
}
