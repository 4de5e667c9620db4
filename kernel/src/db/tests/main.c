/* Runs the db suites (exec, transactions, pool, migrations, uuid) against a real server. */
#include <CUnit/Basic.h>

void register_exec_tests(void);
void register_tx_tests(void);
void register_pool_tests(void);
void register_migrate_tests(void);
void register_uuid_tests(void);

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_exec_tests();
    register_tx_tests();
    register_pool_tests();
    register_migrate_tests();
    register_uuid_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
