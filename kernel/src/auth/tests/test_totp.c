/* totp.c: the RFC 4226 and RFC 6238 (SHA-1) test vectors, the ±1-step window and single use. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "../totp.h"

void register_totp_tests(void);

static const unsigned char rfc_key[] = "12345678901234567890"; /* both RFCs' SHA-1 seed */

static void
test_hotp_rfc4226_vectors(void)
{
    static const uint32_t want[] = {755224, 287082, 359152, 969429, 338314,
                                    254676, 287922, 162583, 399871, 520489};
    for (uint64_t c = 0; c < 10; c++)
        CU_ASSERT_EQUAL(pnk_totp_hotp(rfc_key, 20, c, 6), want[c]);
}

static void
test_totp_rfc6238_sha1_vectors(void)
{
    static const struct {
        int64_t t;
        uint32_t code;
    } v[] = {{59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
             {1234567890, 89005924}, {2000000000, 69279037}, {20000000000LL, 65353130}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        CU_ASSERT_EQUAL(pnk_totp_hotp(rfc_key, 20, (uint64_t)pnk_totp_step(v[i].t), 8), v[i].code);
        /* The 6-digit code is the last six digits of the same value. */
        CU_ASSERT_EQUAL(pnk_totp_hotp(rfc_key, 20, (uint64_t)pnk_totp_step(v[i].t), 6),
                        v[i].code % 1000000);
    }
}

static void
code_at(int64_t t, char out[7])
{
    snprintf(out, 7, "%06u", pnk_totp_hotp(rfc_key, 20, (uint64_t)pnk_totp_step(t), 6));
}

static void
test_totp_window_and_single_use(void)
{
    const int64_t now = 1234567890, step = now / 30;
    char cur[7], prev[7], next[7], old[7], later[7];
    code_at(now, cur);
    code_at(now - 30, prev);
    code_at(now + 30, next);
    code_at(now - 60, old);
    code_at(now + 60, later);

    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, cur, now, -1), step);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, prev, now, -1), step - 1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, next, now, -1), step + 1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, old, now, -1), -1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, later, now, -1), -1);

    /* Once step is used, neither it nor an earlier code works again; a later one does. */
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, cur, now, step), -1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, prev, now, step), -1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, next, now, step), step + 1);
}

static void
test_totp_refuses_malformed_codes(void)
{
    const int64_t now = 1234567890;
    char cur[7], bad[8];
    code_at(now, cur);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, NULL, now, -1), -1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, "", now, -1), -1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, "12345", now, -1), -1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, "1234567", now, -1), -1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, "12 456", now, -1), -1);
    snprintf(bad, sizeof bad, "%s0", cur); /* right code with a digit more */
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, bad, now, -1), -1);
    CU_ASSERT_EQUAL(pnk_totp_check(rfc_key, 20, cur, -5, -1), -1);
    /* Another key gives another code (for this time, by the vectors above). */
    CU_ASSERT_EQUAL(pnk_totp_check((const unsigned char *)"12345678901234567891", 20, cur, now, -1),
                    -1);
}

void
register_totp_tests(void)
{
    CU_pSuite s = CU_add_suite("totp", NULL, NULL);
    CU_add_test(s, "HOTP RFC 4226 vectors", test_hotp_rfc4226_vectors);
    CU_add_test(s, "TOTP RFC 6238 SHA-1 vectors", test_totp_rfc6238_sha1_vectors);
    CU_add_test(s, "window of one step, each code once", test_totp_window_and_single_use);
    CU_add_test(s, "malformed codes refused", test_totp_refuses_malformed_codes);
}
