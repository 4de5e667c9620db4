/* seal.c: AES-256-GCM round trip, and every kind of tampering refused. Also codec.c. */
#include <CUnit/CUnit.h>
#include <string.h>

#include <powernode/types.h>

#include "../codec.h"
#include "../seal.h"

void register_seal_tests(void);

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char secret[20] = "twenty bytes secret!";

static size_t
sealed(unsigned char *out, size_t size, const char *aad)
{
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(pnk_seal(key, secret, sizeof secret, aad, out, size, &n), PN_OK);
    CU_ASSERT_EQUAL(n, sizeof secret + PNK_SEAL_OVERHEAD);
    return n;
}

static void
test_seal_round_trip(void)
{
    unsigned char a[64], b[64], out[64];
    size_t na = sealed(a, sizeof a, "user-1"), nb = sealed(b, sizeof b, "user-1"), len = 0;
    /* A fresh nonce each time: the same secret seals differently. */
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, na), 0);
    CU_ASSERT_EQUAL(memcmp(a + 1 + 12, secret, 16) == 0, 0); /* not stored in clear */
    CU_ASSERT_EQUAL(pnk_seal_open(key, a, na, "user-1", out, sizeof out, &len), PN_OK);
    CU_ASSERT_EQUAL(len, sizeof secret);
    CU_ASSERT_EQUAL(memcmp(out, secret, sizeof secret), 0);
    CU_ASSERT_EQUAL(pnk_seal_open(key, b, nb, "user-1", out, sizeof out, &len), PN_OK);
}

static void
test_seal_tampering_refused(void)
{
    unsigned char s[64], t[64], out[64];
    size_t n = sealed(s, sizeof s, "user-1"), len = 0;

    /* Every single bit of the sealed value matters (version, nonce, ciphertext, tag). */
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(t, s, n);
            t[i] ^= (unsigned char)(1u << bit);
            CU_ASSERT_NOT_EQUAL(pnk_seal_open(key, t, n, "user-1", out, sizeof out, &len), PN_OK);
        }
    /* Another context (copied to another user's row), another key, truncation, extension. */
    CU_ASSERT_EQUAL(pnk_seal_open(key, s, n, "user-2", out, sizeof out, &len), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_seal_open(key, s, n, NULL, out, sizeof out, &len), PN_E_INVALID);
    unsigned char other[32];
    memcpy(other, key, 32);
    other[31] ^= 1;
    CU_ASSERT_EQUAL(pnk_seal_open(other, s, n, "user-1", out, sizeof out, &len), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_seal_open(key, s, n - 1, "user-1", out, sizeof out, &len), PN_E_INVALID);
    memcpy(t, s, n);
    t[n] = 0;
    CU_ASSERT_EQUAL(pnk_seal_open(key, t, n + 1, "user-1", out, sizeof out, &len), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_seal_open(key, s, 5, "user-1", out, sizeof out, &len), PN_E_INVALID);
    /* A refused value leaves no plaintext behind in the output. */
    memcpy(t, s, n);
    t[n - 1] ^= 1;
    memset(out, 0xAA, sizeof out);
    (void)pnk_seal_open(key, t, n, "user-1", out, sizeof out, &len);
    CU_ASSERT_EQUAL(memcmp(out, secret, 4) == 0, 0);
}

static void
test_codec_encodings(void)
{
    char buf[80];
    unsigned char raw[8];
    /* RFC 4648 §10 vectors. */
    CU_ASSERT_TRUE(pnk_codec_base32((const unsigned char *)"foobar", 6, buf, sizeof buf));
    CU_ASSERT_STRING_EQUAL(buf, "MZXW6YTBOI");
    CU_ASSERT_TRUE(pnk_codec_base32((const unsigned char *)"f", 1, buf, sizeof buf));
    CU_ASSERT_STRING_EQUAL(buf, "MY");
    CU_ASSERT_TRUE(pnk_codec_b64url((const unsigned char *)"foob", 4, buf, sizeof buf));
    CU_ASSERT_STRING_EQUAL(buf, "Zm9vYg");
    CU_ASSERT_TRUE(pnk_codec_b64url((const unsigned char *)"\xfb\xff", 2, buf, sizeof buf));
    CU_ASSERT_STRING_EQUAL(buf, "-_8");
    CU_ASSERT_FALSE(pnk_codec_b64url((const unsigned char *)"foob", 4, buf, 6));
    CU_ASSERT_EQUAL(PNK_B64URL_LEN(32), 44);
    CU_ASSERT_EQUAL(PNK_BASE32_LEN(20), 33);

    CU_ASSERT_TRUE(pnk_codec_unhex("00ff10Ab", raw, 4));
    CU_ASSERT_EQUAL(raw[1], 0xff);
    CU_ASSERT_EQUAL(raw[3], 0xab);
    CU_ASSERT_FALSE(pnk_codec_unhex("00ff10A", raw, 4));
    CU_ASSERT_FALSE(pnk_codec_unhex("00ff10Abc", raw, 4));
    CU_ASSERT_FALSE(pnk_codec_unhex("00ff10Ag", raw, 4));
    CU_ASSERT_FALSE(pnk_codec_unhex(NULL, raw, 4));
    pnk_codec_hex(raw, 4, buf);
    CU_ASSERT_STRING_EQUAL(buf, "00ff10ab");
    pnk_codec_sha256_hex("abc", 3, buf);
    CU_ASSERT_STRING_EQUAL(buf, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

void
register_seal_tests(void)
{
    CU_pSuite s = CU_add_suite("seal", NULL, NULL);
    CU_add_test(s, "round trip", test_seal_round_trip);
    CU_add_test(s, "tampering refused", test_seal_tampering_refused);
    CU_add_test(s, "codec encodings", test_codec_encodings);
}
