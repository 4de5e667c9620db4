/* The verified-token cache behind pnk_auth_verify_token: a hit needs the same bytes, time
 * claims are checked on every hit, and new keys forget every earlier verification. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../auth.h"
#include "../auth_int.h"
#include "../vcache.h"

void register_vcache_tests(void);

static const pnk_auth_key_t key_a[] = {{"ka", "0123456789abcdef0123456789abcdef-key-a"}};
static const pnk_auth_key_t key_b[] = {{"kb", "0123456789abcdef0123456789abcdef-key-b"}};
#define USER "01890a5d-ac96-774b-bcce-b302099a8057"
#define ACCT "01890a5d-ac96-774b-bcce-b302099a8058"

static void
init_with(const pnk_auth_key_t *keys)
{
    char err[200];
    pnk_auth_config_t cfg = {.issuer = "iss", .audience = "aud", .keys = keys, .nkeys = 1};
    CU_ASSERT_EQUAL_FATAL(pnk_auth_init(&cfg, err, sizeof err), PN_OK);
}

static void
test_hit_miss_and_rekey(void)
{
    char err[200], why[128];
    char *tok = NULL;
    pnk_jwt_claims_t c, cached;
    int64_t now = (int64_t)time(NULL);

    init_with(key_a);
    CU_ASSERT_EQUAL_FATAL(
        pnk_auth_issue_access(USER, ACCT, "s1", &tok, NULL, NULL, err, sizeof err), PN_OK);
    CU_ASSERT_FALSE(pnk_vcache_get(tok, now, &cached)); /* nothing verified yet */
    CU_ASSERT_EQUAL(pnk_auth_verify_token(tok, now, &c, why, sizeof why), PN_OK);
    CU_ASSERT_TRUE_FATAL(pnk_vcache_get(tok, now, &cached));
    CU_ASSERT_STRING_EQUAL(cached.sub, USER);
    CU_ASSERT_STRING_EQUAL(cached.sid, "s1");
    CU_ASSERT_EQUAL(memcmp(&cached, &c, sizeof c), 0);

    /* One byte changed (the last of the signature): not the cached token, and refused. */
    char *bad = strdup(tok);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
    CU_ASSERT_FALSE(pnk_vcache_get(bad, now, &cached));
    CU_ASSERT_EQUAL(pnk_auth_verify_token(bad, now, &c, why, sizeof why), PN_E_UNAUTH);
    free(bad);

    /* Time claims are checked on a hit: expired (plus leeway) and not yet issued are misses,
     * and the full check refuses them. */
    int64_t later = now + 900 + PNK_JWT_LEEWAY + 1, earlier = now - PNK_JWT_LEEWAY - 1;
    CU_ASSERT_FALSE(pnk_vcache_get(tok, later, &cached));
    CU_ASSERT_EQUAL(pnk_auth_verify_token(tok, later, &c, why, sizeof why), PN_E_UNAUTH);
    CU_ASSERT_FALSE(pnk_vcache_get(tok, earlier, &cached));
    CU_ASSERT_EQUAL(pnk_auth_verify_token(tok, earlier, &c, why, sizeof why), PN_E_UNAUTH);

    /* New keys: the old verification is forgotten and the token no longer passes. */
    init_with(key_b);
    CU_ASSERT_FALSE(pnk_vcache_get(tok, now, &cached));
    CU_ASSERT_EQUAL(pnk_auth_verify_token(tok, now, &c, why, sizeof why), PN_E_UNAUTH);
    free(tok);
    pnk_auth_fini();
}

void
register_vcache_tests(void)
{
    CU_pSuite s = CU_add_suite("vcache", NULL, NULL);
    CU_add_test(s, "hit, miss and new keys", test_hit_miss_and_rekey);
}
