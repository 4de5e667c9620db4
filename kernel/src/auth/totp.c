/* RFC 6238 TOTP codes: HOTP with dynamic truncation, and the ±1-step window check. */
#include "totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static const uint32_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

uint32_t
pnk_totp_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits)
{
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (digits < 6 || digits > 8)
        digits = PNK_TOTP_DIGITS;
    for (int i = 7; i >= 0; i--, counter >>= 8)
        msg[i] = (unsigned char)(counter & 0xff);
    HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof msg, mac, &maclen);
    unsigned off = mac[maclen - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    return bin % pow10[digits];
}

int64_t
pnk_totp_step(int64_t now)
{
    return now < 0 ? -1 : now / PNK_TOTP_PERIOD;
}

int64_t
pnk_totp_check(const unsigned char *key, size_t keylen, const char *code, int64_t now,
               int64_t last_step)
{
    uint32_t want = 0;
    int64_t found = -1, step = pnk_totp_step(now);

    if (!code || strlen(code) != PNK_TOTP_DIGITS || step < 0)
        return -1;
    for (int i = 0; i < PNK_TOTP_DIGITS; i++) {
        if (code[i] < '0' || code[i] > '9')
            return -1;
        want = want * 10 + (uint32_t)(code[i] - '0');
    }
    for (int64_t s = step - PNK_TOTP_SKEW; s <= step + PNK_TOTP_SKEW; s++) {
        if (s < 0)
            continue;
        uint32_t got = pnk_totp_hotp(key, keylen, (uint64_t)s, PNK_TOTP_DIGITS);
        /* Branch-free compare; the later candidate wins, which only matters if two steps
         * share a code. */
        int64_t hit = (int64_t)((got ^ want) == 0) & (int64_t)(s > last_step);
        found = hit ? s : found;
    }
    return found;
}
