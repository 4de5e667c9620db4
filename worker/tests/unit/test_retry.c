/* Retry timing and decisions with an injected clock and random source. */
#include <CUnit/CUnit.h>
#include <math.h>

#include "payload.h"
#include "retry.h"
#include "suites.h"

typedef struct {
    double now;
    unsigned r; /* what rand_below returns (clamped) */
} fake_t;

static double
fake_now(void *ud)
{
    return ((fake_t *)ud)->now;
}

static unsigned
fake_rand(void *ud, unsigned n)
{
    unsigned r = ((fake_t *)ud)->r;
    return r < n ? r : n - 1;
}

static void
test_delays_api(void)
{
    fake_t f = {1000, 0};
    pnw_clock_t clk = {fake_now, fake_rand, &f};
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(0, true, &clk, 1), 30, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(1, true, &clk, 1), 60, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(2, true, &clk, 1), 180, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(7, true, &clk, 1), 180, 1e-9);
}

static void
test_delays_formula(void)
{
    fake_t f = {0, 0};
    pnw_clock_t clk = {fake_now, fake_rand, &f};
    /* count^4 + 15 + rand(10) * (count + 1) */
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(0, false, &clk, 1), 15, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(2, false, &clk, 1), 31, 1e-9);
    f.r = 9;
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(0, false, &clk, 1), 24, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(3, false, &clk, 1), 81 + 15 + 36, 1e-9);
    f.r = 100; /* clamped to 9 */
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(1, false, &clk, 1), 1 + 15 + 18, 1e-9);
    /* Scale for tests. */
    f.r = 0;
    CU_ASSERT_DOUBLE_EQUAL(pnw_retry_delay(1, false, &clk, 0.001), 0.016, 1e-9);
    /* Real random source: jitter stays within 0..9 * (count + 1). */
    for (int i = 0; i < 200; i++) {
        double d = pnw_retry_delay(2, false, &pnw_clock_system, 1);
        CU_ASSERT(d >= 31 && d <= 31 + 27);
        CU_ASSERT(d == floor(d));
    }
}

static void
test_plan(void)
{
    fake_t f = {5000, 0};
    pnw_clock_t clk = {fake_now, fake_rand, &f};
    /* Default: 3 retries, then dead on the fourth failure. */
    pnw_plan_t p = pnw_retry_plan(PNW_RETRY_CLASS, 0, -1, false, false, &clk, 1);
    CU_ASSERT_EQUAL(p.kind, PNW_PLAN_RETRY);
    CU_ASSERT_EQUAL(p.retry_count, 0);
    CU_ASSERT_DOUBLE_EQUAL(p.at, 5015, 1e-9);
    p = pnw_retry_plan(PNW_RETRY_CLASS, 0, 1, true, false, &clk, 1);
    CU_ASSERT_EQUAL(p.kind, PNW_PLAN_RETRY);
    CU_ASSERT_EQUAL(p.retry_count, 2);
    CU_ASSERT_DOUBLE_EQUAL(p.at, 5180, 1e-9);
    p = pnw_retry_plan(PNW_RETRY_CLASS, 0, 2, false, false, &clk, 1);
    CU_ASSERT_EQUAL(p.kind, PNW_PLAN_DEAD);
    CU_ASSERT_EQUAL(p.retry_count, 3);
    CU_ASSERT_DOUBLE_EQUAL(p.at, 5000, 1e-9);
    /* Payload retry wins over the class; 0 = dead at once; false = dropped. */
    CU_ASSERT_EQUAL(pnw_retry_plan(5, 1, 3, false, false, &clk, 1).kind, PNW_PLAN_RETRY);
    CU_ASSERT_EQUAL(pnw_retry_plan(0, 3, -1, false, false, &clk, 1).kind, PNW_PLAN_DEAD);
    CU_ASSERT_EQUAL(pnw_retry_plan(PNW_RETRY_DISCARD, 3, -1, false, false, &clk, 1).kind,
                    PNW_PLAN_DISCARD);
    /* Class without retries; permanent failure. */
    CU_ASSERT_EQUAL(pnw_retry_plan(PNW_RETRY_CLASS, -1, -1, false, false, &clk, 1).kind,
                    PNW_PLAN_DEAD);
    CU_ASSERT_EQUAL(pnw_retry_plan(PNW_RETRY_CLASS, 10, -1, false, true, &clk, 1).kind,
                    PNW_PLAN_DEAD);
    CU_ASSERT_EQUAL(pnw_retry_limit(PNW_RETRY_CLASS, 7), 7);
}

/* A whole life with the clock moved by the test: attempts = retries + 1, gaps as planned. */
static void
test_timeline(void)
{
    fake_t f = {100, 3};
    pnw_clock_t clk = {fake_now, fake_rand, &f};
    int prev = -1, attempts = 0;
    double expect[] = {15 + 3, 1 + 15 + 6, 16 + 15 + 9};
    for (;;) {
        attempts++;
        pnw_plan_t p = pnw_retry_plan(PNW_RETRY_CLASS, 0, prev, false, false, &clk, 1);
        if (p.kind == PNW_PLAN_DEAD)
            break;
        CU_ASSERT_DOUBLE_EQUAL(p.at - f.now, expect[p.retry_count], 1e-9);
        f.now = p.at;
        prev = p.retry_count;
        CU_ASSERT_FATAL(attempts < 10);
    }
    CU_ASSERT_EQUAL(attempts, 4);
}

void
add_retry_tests(void)
{
    CU_pSuite s = CU_add_suite("retry", NULL, NULL);
    CU_add_test(s, "API error delays 30/60/180", test_delays_api);
    CU_add_test(s, "count^4 + 15 + jitter", test_delays_formula);
    CU_add_test(s, "retry, dead, discard decisions", test_plan);
    CU_add_test(s, "timeline with an injected clock", test_timeline);
}
