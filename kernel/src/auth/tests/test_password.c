/* password.c: argon2id hashing and verification, the policy, generated passwords. */
#include <CUnit/CUnit.h>
#include <string.h>
#include <time.h>

#include <powernode/types.h>

#include "../password.h"

void register_password_tests(void);

static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789";

static void
test_password_hash_then_verify(void)
{
    char h1[PNK_PASSWORD_HASH_MAX], h2[PNK_PASSWORD_HASH_MAX], err[128];
    const char *pwd = "correct horse battery staple";
    CU_ASSERT_EQUAL_FATAL(pnk_password_hash(pwd, strlen(pwd), h1, sizeof h1, err, sizeof err),
                          PN_OK);
    CU_ASSERT_EQUAL(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    CU_ASSERT_TRUE(pnk_password_verify(h1, pwd, strlen(pwd)));
    CU_ASSERT_FALSE(pnk_password_verify(h1, "correct horse battery stapl", strlen(pwd) - 1));
    CU_ASSERT_FALSE(pnk_password_verify(h1, "Correct horse battery staple", strlen(pwd)));
    CU_ASSERT_FALSE(pnk_password_verify(h1, "", 0));
    CU_ASSERT_FALSE(pnk_password_needs_rehash(h1));

    /* A fresh salt each time: same password, different hash, both verify. */
    CU_ASSERT_EQUAL_FATAL(pnk_password_hash(pwd, strlen(pwd), h2, sizeof h2, err, sizeof err),
                          PN_OK);
    CU_ASSERT_STRING_NOT_EQUAL(h1, h2);
    CU_ASSERT_TRUE(pnk_password_verify(h2, pwd, strlen(pwd)));
}

static void
test_password_length_counts_every_byte(void)
{
    /* Bytes after a NUL count: no truncation (ASVS 6.2.8). */
    char h[PNK_PASSWORD_HASH_MAX], err[128];
    const char pwd[] = "abcdef\0ghijklmnop";
    CU_ASSERT_EQUAL_FATAL(pnk_password_hash(pwd, sizeof pwd - 1, h, sizeof h, err, sizeof err),
                          PN_OK);
    CU_ASSERT_TRUE(pnk_password_verify(h, pwd, sizeof pwd - 1));
    CU_ASSERT_FALSE(pnk_password_verify(h, pwd, 6));
    CU_ASSERT_FALSE(pnk_password_verify(h, "abcdef\0ghijklmnoq", sizeof pwd - 1));
}

static void
test_password_verify_refuses_other_hashes(void)
{
    const char *pwd = "password1234";
    CU_ASSERT_FALSE(pnk_password_verify(NULL, pwd, strlen(pwd)));
    CU_ASSERT_FALSE(pnk_password_verify("", pwd, strlen(pwd)));
    CU_ASSERT_FALSE(pnk_password_verify("garbage", pwd, strlen(pwd)));
    CU_ASSERT_FALSE(
        pnk_password_verify("$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB", pwd, strlen(pwd)));
    /* argon2i (not id) of the same password is refused by type. */
    CU_ASSERT_FALSE(pnk_password_verify(
        "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$N5J3rY2sPZ1Kj9nC0uCo2g", pwd, strlen(pwd)));
    CU_ASSERT_TRUE(pnk_password_needs_rehash(NULL));
    CU_ASSERT_TRUE(pnk_password_needs_rehash("$argon2id$v=19$m=65536,t=3,p=4$AAAA$BBBB"));
}

static void
test_password_small_buffer_is_an_error(void)
{
    char h[40], err[128];
    CU_ASSERT_EQUAL(pnk_password_hash("password1234", 12, h, sizeof h, err, sizeof err),
                    PN_E_INTERNAL);
}

static void
test_password_dummy_verify_costs_like_a_real_one(void)
{
    char h[PNK_PASSWORD_HASH_MAX], err[128];
    CU_ASSERT_EQUAL_FATAL(pnk_password_hash("realpassword12", 14, h, sizeof h, err, sizeof err),
                          PN_OK);
    CU_ASSERT_FALSE(pnk_password_verify_dummy("warm-up", 7)); /* builds the dummy hash */

    /* The fastest of three runs each, so a busy machine's preemptions do not decide. */
    double real = 1e9, dummy = 1e9;
    for (int i = 0; i < 3; i++) {
        struct timespec a, b, c;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CU_ASSERT_FALSE(pnk_password_verify(h, "wrongpassword1", 14));
        clock_gettime(CLOCK_MONOTONIC, &b);
        CU_ASSERT_FALSE(pnk_password_verify_dummy("wrongpassword1", 14));
        clock_gettime(CLOCK_MONOTONIC, &c);
        double r = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        double d = (double)(c.tv_sec - b.tv_sec) + (double)(c.tv_nsec - b.tv_nsec) / 1e9;
        real = r < real ? r : real;
        dummy = d < dummy ? d : dummy;
    }
    /* Loose bounds: the same argon2 work, so within a factor of three of each other. */
    CU_ASSERT_TRUE(dummy > real / 3 && dummy < real * 3);
}

static void
test_password_policy(void)
{
    char err[128];
    CU_ASSERT_EQUAL(pnk_password_check_policy("short", 5, err, sizeof err), PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "at least 12"));
    CU_ASSERT_EQUAL(pnk_password_check_policy("abcdefghijk", 11, err, sizeof err), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_password_check_policy("abcdefghijkl", 12, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_password_check_policy("aaaaaaaaaaaaaaaa", 16, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "repeated"));
    CU_ASSERT_EQUAL(pnk_password_check_policy("aaaaaaaaaaaaaaab", 16, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_password_check_policy("abcdef\0ghijklm", 14, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_password_check_policy(NULL, 0, err, sizeof err), PN_E_INVALID);

    char big[PNK_PASSWORD_MAX + 2];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    CU_ASSERT_EQUAL(pnk_password_check_policy(big, PNK_PASSWORD_MAX, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_password_check_policy(big, PNK_PASSWORD_MAX + 1, err, sizeof err),
                    PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "at most 256"));
}

static void
test_password_generate(void)
{
    char a[PNK_PASSWORD_GEN_LEN + 1], b[64], err[128];
    CU_ASSERT_EQUAL_FATAL(pnk_password_generate(a, sizeof a), PN_OK);
    CU_ASSERT_EQUAL(strlen(a), PNK_PASSWORD_GEN_LEN);
    CU_ASSERT_EQUAL(strspn(a, alphabet), PNK_PASSWORD_GEN_LEN);
    CU_ASSERT_EQUAL(pnk_password_check_policy(a, strlen(a), err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL_FATAL(pnk_password_generate(b, sizeof b), PN_OK);
    CU_ASSERT_EQUAL(strlen(b), PNK_PASSWORD_GEN_LEN);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    CU_ASSERT_EQUAL(pnk_password_generate(b, PNK_PASSWORD_GEN_LEN), PN_E_INVALID);
    CU_ASSERT_EQUAL(pnk_password_generate(NULL, 64), PN_E_INVALID);

    /* Every character of the alphabet shows up over enough draws; none outside it. */
    int seen[256] = {0};
    for (int round = 0; round < 200; round++) {
        CU_ASSERT_EQUAL_FATAL(pnk_password_generate(b, sizeof b), PN_OK);
        for (const char *p = b; *p; p++)
            seen[(unsigned char)*p]++;
    }
    for (const char *p = alphabet; *p; p++)
        CU_ASSERT_TRUE(seen[(unsigned char)*p] > 0);
    CU_ASSERT_EQUAL(seen['0'] + seen['O'] + seen['1'] + seen['l'] + seen['I'], 0);
}

void
register_password_tests(void)
{
    CU_pSuite s = CU_add_suite("password", NULL, NULL);
    CU_add_test(s, "hash then verify", test_password_hash_then_verify);
    CU_add_test(s, "length counts every byte", test_password_length_counts_every_byte);
    CU_add_test(s, "verify refuses other hashes", test_password_verify_refuses_other_hashes);
    CU_add_test(s, "small buffer is an error", test_password_small_buffer_is_an_error);
    CU_add_test(s, "dummy verify costs like a real one",
                test_password_dummy_verify_costs_like_a_real_one);
    CU_add_test(s, "policy", test_password_policy);
    CU_add_test(s, "generate", test_password_generate);
}
