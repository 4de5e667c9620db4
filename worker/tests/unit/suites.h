/* The unit test suites and a helper to register tests tersely. */
#ifndef PNW_TEST_SUITES_H
#define PNW_TEST_SUITES_H

#include <CUnit/CUnit.h>

void add_retry_tests(void);
void add_cron_tests(void);
void add_payload_tests(void);
void add_config_tests(void);
void add_misc_tests(void);

#endif
