/* Runs the auth suites that need PostgreSQL (PN_TEST_DATABASE_URL) and Redis
 * (PN_TEST_REDIS_URL): they fail, not skip, when either is missing. One scratch schema for
 * the whole run, dropped at the end. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../redis/redis.h"
#include "testdb.h"

static int
open_redis(void)
{
    const char *url = getenv("PN_TEST_REDIS_URL");
    char err[256];
    if (!url || !*url) {
        fprintf(stderr,
                "test_auth_db: PN_TEST_REDIS_URL is not set (run through scripts/test.sh)\n");
        return -1;
    }
    pnk_redis_config_t rc = {.url = url};
    if (pnk_redis_init(&rc, err, sizeof err) != 0) {
        fprintf(stderr, "test_auth_db: redis: %s\n", err);
        return -1;
    }
    return 0;
}

void register_auth_db_tests(int applied);
void register_authn_tests(void);
void register_apikey_tests(void);

int
main(void)
{
    int applied = -1;
    if (open_redis() != 0)
        return 1;
    if (testdb_open(&applied) != 0) {
        fprintf(stderr, "test_auth_db: FAILED: no usable test database (see above)\n");
        testdb_close();
        return 1;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    register_auth_db_tests(applied);
    register_authn_tests();
    register_apikey_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    testdb_close();
    pnk_redis_shutdown();
    return failed ? 1 : 0;
}
