/* Fixed-window rate-limit decisions; see ratelimit.h. */
#include "ratelimit.h"

int64_t
pnk_ratelimit_window(int64_t now, int window)
{
    int64_t r = now % window;
    return now - (r < 0 ? r + window : r);
}

bool
pnk_ratelimit_allows(int64_t count, int limit, int64_t now, int window, int *retry_after)
{
    if (limit <= 0 || count <= limit)
        return true;
    int64_t left = pnk_ratelimit_window(now, window) + window - now;
    *retry_after = (int)(left < 1 ? 1 : left);
    return false;
}
