/* Random bytes from the kernel (getrandom). Identities, jids, jti and retry jitter need
 * unpredictable bytes, not OpenSSL's generator: starting that one costs a worker about 3 MiB
 * of resident memory before it has run a job. */
#ifndef PNW_WRANDOM_H
#define PNW_WRANDOM_H

#include <stddef.h>

/* Fill buf with n random bytes. 0 on success, -1 when the kernel gave none. */
int pnw_random(void *buf, size_t n);

#endif
