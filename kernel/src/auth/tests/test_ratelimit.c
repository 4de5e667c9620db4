/* ratelimit.c: windows aligned to the minute, the count that trips, and Retry-After. */
#include <CUnit/CUnit.h>

#include "../ratelimit.h"

void register_ratelimit_tests(void);

static void
test_ratelimit_windows(void)
{
    CU_ASSERT_EQUAL(pnk_ratelimit_window(0, 60), 0);
    CU_ASSERT_EQUAL(pnk_ratelimit_window(59, 60), 0);
    CU_ASSERT_EQUAL(pnk_ratelimit_window(60, 60), 60);
    CU_ASSERT_EQUAL(pnk_ratelimit_window(1700000039, 60), 1700000039 - 1700000039 % 60);
    CU_ASSERT_EQUAL(pnk_ratelimit_window(-1, 60), -60);
}

static void
test_ratelimit_trips_after_limit(void)
{
    int retry = -1;
    const int64_t now = 1700000000; /* 20 s into its minute: 1700000000 % 60 == 20 */
    for (int64_t c = 1; c <= 5; c++)
        CU_ASSERT_TRUE(pnk_ratelimit_allows(c, 5, now, 60, &retry));
    CU_ASSERT_EQUAL(retry, -1); /* untouched while allowed */
    CU_ASSERT_FALSE(pnk_ratelimit_allows(6, 5, now, 60, &retry));
    CU_ASSERT_EQUAL(retry, 40);
    CU_ASSERT_FALSE(pnk_ratelimit_allows(1000, 5, now, 60, &retry));
    CU_ASSERT_EQUAL(retry, 40);
}

static void
test_ratelimit_retry_after_bounds(void)
{
    int retry = 0;
    const int64_t start = 1700000040; /* a window start */
    CU_ASSERT_FALSE(pnk_ratelimit_allows(2, 1, start, 60, &retry));
    CU_ASSERT_EQUAL(retry, 60);
    CU_ASSERT_FALSE(pnk_ratelimit_allows(2, 1, start + 59, 60, &retry));
    CU_ASSERT_EQUAL(retry, 1);
    for (int64_t t = start; t < start + 120; t++) {
        CU_ASSERT_FALSE(pnk_ratelimit_allows(2, 1, t, 60, &retry));
        CU_ASSERT_TRUE(retry >= 1 && retry <= 60);
        /* Waiting that long always lands in the next window. */
        CU_ASSERT_EQUAL(pnk_ratelimit_window(t + retry, 60), pnk_ratelimit_window(t, 60) + 60);
    }
}

static void
test_ratelimit_zero_is_off(void)
{
    int retry = 0;
    CU_ASSERT_TRUE(pnk_ratelimit_allows(1000000, 0, 1700000000, 60, &retry));
    CU_ASSERT_TRUE(pnk_ratelimit_allows(1000000, -1, 1700000000, 60, &retry));
}

void
register_ratelimit_tests(void)
{
    CU_pSuite s = CU_add_suite("ratelimit", NULL, NULL);
    CU_add_test(s, "windows", test_ratelimit_windows);
    CU_add_test(s, "trips after the limit", test_ratelimit_trips_after_limit);
    CU_add_test(s, "Retry-After bounds", test_ratelimit_retry_after_bounds);
    CU_add_test(s, "zero is off", test_ratelimit_zero_is_off);
}
