/* Runs the http suites: parser, chunked decoder, smuggling corpus, and the real-socket server,
 * streams, trusted proxies. */
#include <CUnit/Basic.h>

void register_parser_tests(void);
void register_chunked_tests(void);
void register_smuggle_tests(void);
void register_server_tests(void);
void register_stream_tests(void);
void register_proxy_tests(void);

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_parser_tests();
    register_chunked_tests();
    register_smuggle_tests();
    register_server_tests();
    register_stream_tests();
    register_proxy_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
