/* Retry timing and the retry / dead / discard decision. */
#include <time.h>

#include "payload.h"
#include "retry.h"
#include "wrandom.h"

static double
sys_now(void *ud)
{
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned
sys_rand(void *ud, unsigned n)
{
    (void)ud;
    unsigned v = 0;
    if (n <= 1 || pnw_random(&v, sizeof v) != 0)
        return 0;
    return v % n;
}

const pnw_clock_t pnw_clock_system = {sys_now, sys_rand, NULL};

double
pnw_retry_delay(int count, bool api_error, const pnw_clock_t *clk, double scale)
{
    static const double api[] = {30, 60, 180};
    double d;
    if (count < 0)
        count = 0;
    if (api_error) {
        d = api[count < 2 ? count : 2];
    } else {
        double c = count > 10000 ? 10000 : count;
        /* Sidekiq's formula: count^4 + 15 + rand(10) * (count + 1). */
        d = c * c * c * c + 15 + (double)clk->rand_below(clk->ud, 10) * (c + 1);
    }
    return d * scale;
}

int
pnw_retry_limit(int payload_retry, int class_retry)
{
    if (payload_retry == PNW_RETRY_DISCARD)
        return 0;
    if (payload_retry >= 0)
        return payload_retry;
    return class_retry < 0 ? 0 : class_retry == 0 ? PNW_DEFAULT_RETRY : class_retry;
}

pnw_plan_t
pnw_retry_plan(int payload_retry, int class_retry, int prev_count, bool api_error, bool permanent,
               const pnw_clock_t *clk, double scale)
{
    pnw_plan_t p = {.retry_count = prev_count < 0 ? 0 : prev_count + 1};
    double now = clk->now(clk->ud);
    if (payload_retry == PNW_RETRY_DISCARD) {
        p.kind = PNW_PLAN_DISCARD;
        p.at = now;
        return p;
    }
    int limit = pnw_retry_limit(payload_retry, class_retry);
    if (permanent || p.retry_count >= limit) {
        p.kind = PNW_PLAN_DEAD;
        p.at = now;
        return p;
    }
    p.kind = PNW_PLAN_RETRY;
    p.at = now + pnw_retry_delay(p.retry_count, api_error, clk, scale);
    return p;
}
