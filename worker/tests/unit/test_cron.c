/* Cron expression parsing and matching (UTC). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "cron.h"
#include "suites.h"

static time_t
utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return timegm(&tm);
}

static bool
match(const char *expr, time_t t)
{
    pnw_cron_t c;
    char err[200];
    CU_ASSERT_EQUAL_FATAL(pnw_cron_parse(expr, &c, err, sizeof err), 0);
    return pnw_cron_match(&c, t);
}

static void
test_cadences(void)
{
    time_t t = utc(2024, 3, 4, 6, 0); /* a Monday */
    CU_ASSERT(match("* * * * *", t));
    CU_ASSERT(match("*/5 * * * *", t));
    CU_ASSERT(!match("*/5 * * * *", t + 60));
    CU_ASSERT(match("*/10 * * * *", utc(2024, 3, 4, 6, 50)));
    CU_ASSERT(match("@hourly", t));
    CU_ASSERT(!match("@hourly", t + 120));
    CU_ASSERT(match("0 */6 * * *", t));
    CU_ASSERT(!match("0 */6 * * *", utc(2024, 3, 4, 7, 0)));
    CU_ASSERT(match("0 3 * * *", utc(2024, 3, 4, 3, 0)));
    CU_ASSERT(!match("0 3 * * *", utc(2024, 3, 4, 4, 0)));
    CU_ASSERT(match("@weekly", utc(2024, 3, 3, 0, 0))); /* Sunday */
    CU_ASSERT(!match("@weekly", utc(2024, 3, 4, 0, 0)));
    CU_ASSERT(match("0 6 * * mon", t));
    CU_ASSERT(match("0 6 * * 1-5", t));
    CU_ASSERT(match("0 0 * * 7", utc(2024, 3, 3, 0, 0))); /* 7 = Sunday */
    CU_ASSERT(match("@monthly", utc(2024, 3, 1, 0, 0)));
    CU_ASSERT(!match("@monthly", utc(2024, 3, 2, 0, 0)));
    CU_ASSERT(match("15,45 * * jan,mar *", utc(2024, 3, 9, 1, 45)));
    CU_ASSERT(match("5/20 * * * *", utc(2024, 3, 9, 1, 25)));
    CU_ASSERT(!match("5/20 * * * *", utc(2024, 3, 9, 1, 20)));
    /* Both day fields restricted: either matches (Vixie). */
    CU_ASSERT(match("0 0 13 * fri", utc(2024, 3, 13, 0, 0)));
    CU_ASSERT(match("0 0 13 * fri", utc(2024, 3, 15, 0, 0)));
    CU_ASSERT(!match("0 0 13 * fri", utc(2024, 3, 14, 0, 0)));
    /* Exactly 24 ticks a day for @hourly, 288 for */ /* 5. */
    pnw_cron_t c;
    char err[100];
    pnw_cron_parse("*/5 * * * *", &c, err, sizeof err);
    int n = 0;
    for (time_t m = utc(2024, 1, 1, 0, 0); m < utc(2024, 1, 2, 0, 0); m += 60)
        n += pnw_cron_match(&c, m);
    CU_ASSERT_EQUAL(n, 288);
}

static void
test_errors(void)
{
    pnw_cron_t c;
    char err[200];
    const char *bad[] = {"",          "* * * *",    "* * * * * *",  "60 * * * *",  "* 24 * * *",
                         "* * 0 * *", "* * * 13 *", "* * * * 8",    "*/0 * * * *", "5-1 * * * *",
                         "a * * * *", "@often",     "1,,2 * * * *", "*/x * * * *"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(pnw_cron_parse(bad[i], &c, err, sizeof err), -1);
        CU_ASSERT(strlen(err) > 0);
    }
    pnw_cron_parse("* 25 * * *", &c, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "hour"));
}

void
add_cron_tests(void)
{
    CU_pSuite s = CU_add_suite("cron", NULL, NULL);
    CU_add_test(s, "the original's cadences", test_cadences);
    CU_add_test(s, "bad expressions", test_errors);
}
