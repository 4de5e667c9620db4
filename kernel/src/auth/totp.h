/*
 * Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
 * 6 digits, what every authenticator app speaks. Pure and thread-safe; remembering the last
 * step used (so each code works once) is the caller's job.
 */
#ifndef PNK_TOTP_H
#define PNK_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define PNK_TOTP_PERIOD 30 /* seconds per step */
#define PNK_TOTP_DIGITS 6
#define PNK_TOTP_SECRET_LEN 20 /* bytes: RFC 4226 recommends 160 bits */
#define PNK_TOTP_SKEW 1        /* steps accepted either side of now */

/* The HOTP value of key at counter, reduced to `digits` (6..8) decimal digits. */
uint32_t pnk_totp_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits);

/* The step a Unix time falls in. */
int64_t pnk_totp_step(int64_t now);

/*
 * Check a code of PNK_TOTP_DIGITS decimal digits against the steps now-1..now+1, skipping
 * every step <= last_step (-1 when no code was used yet), so a code cannot be replayed and
 * no older code works after a newer one. Every candidate is computed and compared without
 * an early exit. Returns the matching step, or -1.
 */
int64_t pnk_totp_check(const unsigned char *key, size_t keylen, const char *code, int64_t now,
                       int64_t last_step);

#endif
