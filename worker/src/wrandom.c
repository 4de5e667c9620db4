/* getrandom(2) in a loop: it may return fewer bytes than asked or be interrupted. */
#include <errno.h>
#include <sys/random.h>

#include "wrandom.h"

int
pnw_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}
