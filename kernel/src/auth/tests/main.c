/* Runs the auth unit suites: passwords, tokens, principal checks, configuration, TOTP,
 * sealing, rate-limit arithmetic and the verified-token cache. */
#include <CUnit/Basic.h>

void register_password_tests(void);
void register_jwt_tests(void);
void register_auth_config_tests(void);
void register_totp_tests(void);
void register_seal_tests(void);
void register_ratelimit_tests(void);
void register_vcache_tests(void);

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_password_tests();
    register_jwt_tests();
    register_auth_config_tests();
    register_totp_tests();
    register_seal_tests();
    register_ratelimit_tests();
    register_vcache_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
