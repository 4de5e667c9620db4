/*
 * UUIDv7 (RFC 9562, method 1 "fixed-length dedicated counter"): 48-bit Unix milliseconds,
 * the 12-bit rand_a field as a counter, 62 random bits. Ids from one process only go up.
 */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "db.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static unsigned counter;

static void
random_bytes(unsigned char *buf, size_t n)
{
    if (RAND_bytes(buf, (int)n) == 1)
        return;
    /* OpenSSL's DRBG failed to seed; the kernel's pool is the same source underneath. */
    size_t got = 0;
    while (got < n) {
        ssize_t k = getrandom(buf + got, n - got, 0);
        if (k > 0)
            got += (size_t)k;
    }
}

/* A fresh counter starts in the lower half so a busy millisecond has room to count up. */
static unsigned
seed_counter(const unsigned char *rnd)
{
    return ((unsigned)rnd[0] << 8 | rnd[1]) & 0x7ff;
}

void
pnk_uuid_v7(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[10], b[16];
    struct timespec ts;
    uint64_t now, ms;
    unsigned ctr;

    random_bytes(rnd, sizeof rnd);
    clock_gettime(CLOCK_REALTIME, &ts);
    now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;

    pthread_mutex_lock(&mu);
    if (now > last_ms) {
        last_ms = now;
        counter = seed_counter(rnd);
    } else if (++counter > 0xfff) {
        /* The counter is spent (or the clock went back and we kept counting): move the
         * logical clock one millisecond ahead of the real one rather than repeat. */
        last_ms++;
        counter = seed_counter(rnd);
    }
    ms = last_ms;
    ctr = counter;
    pthread_mutex_unlock(&mu);

    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (ctr >> 8));
    b[7] = (unsigned char)(ctr & 0xff);
    b[8] = (unsigned char)(0x80 | (rnd[2] & 0x3f));
    for (int i = 9; i < 16; i++)
        b[i] = rnd[i - 6];

    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 0xf];
    }
    *p = '\0';
}
