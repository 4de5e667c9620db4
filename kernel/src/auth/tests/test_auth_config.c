/* auth.c and principal.c: configuration checks, rotation through the config, permission
 * lookups on a principal. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../auth.h"
#include "../auth_int.h"
#include "forge.h"

void register_auth_config_tests(void);

#define K1 "k1-secret-0123456789abcdef0123456789abcdef"
#define K2 "k2-secret-0123456789abcdef0123456789abcdef"
#define SVC "service-secret-0123456789abcdef0123456789"

static void
test_auth_init_checks(void)
{
    char err[200];
    pnk_auth_key_t keys[2] = {{"k1", K1}, {"k0", "0123456789abcdef0123456789abcde"}};
    pnk_auth_config_t cfg = {.issuer = "iss", .audience = "aud", .keys = keys, .nkeys = 1};
    CU_ASSERT_EQUAL(pnk_auth_init(&cfg, err, sizeof err), PN_OK);

    /* A 31-byte verify-only key is refused as much as a signing one. */
    cfg.nkeys = 2;
    CU_ASSERT_EQUAL(pnk_auth_init(&cfg, err, sizeof err), PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "\"k0\" must be 32..4096 bytes"));
    cfg.nkeys = 1;

    cfg.service_secret = "too-short";
    CU_ASSERT_EQUAL(pnk_auth_init(&cfg, err, sizeof err), PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "service"));
    cfg.service_secret = NULL;

    pnk_auth_key_t reserved = {"service", K1};
    pnk_auth_config_t bad = cfg;
    bad.keys = &reserved;
    CU_ASSERT_EQUAL(pnk_auth_init(&bad, err, sizeof err), PN_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "reserved"));

    bad = cfg;
    bad.access_ttl = 30;
    CU_ASSERT_EQUAL(pnk_auth_init(&bad, err, sizeof err), PN_E_INVALID);
    bad.access_ttl = PNK_AUTH_ACCESS_TTL_MAX + 1;
    CU_ASSERT_EQUAL(pnk_auth_init(&bad, err, sizeof err), PN_E_INVALID);
    bad = cfg;
    bad.nkeys = 0;
    CU_ASSERT_EQUAL(pnk_auth_init(&bad, err, sizeof err), PN_E_INVALID);
    bad = cfg;
    bad.issuer = NULL;
    CU_ASSERT_EQUAL(pnk_auth_init(&bad, err, sizeof err), PN_E_INVALID);

    /* A failed init keeps the previous configuration. */
    int ttl = 0;
    CU_ASSERT_PTR_NOT_NULL(pnk_auth_ring(&ttl));
    CU_ASSERT_EQUAL(ttl, PNK_AUTH_ACCESS_TTL);
    pnk_auth_fini();
    CU_ASSERT_PTR_NULL(pnk_auth_ring(NULL));
}

/* Rotation through the configuration: tokens of the old first key still verify after a new
 * key is put first; service tokens only verify when a service secret is configured. */
static void
test_auth_init_rotation_and_service(void)
{
    char err[200], why[128];
    pnk_jwt_claims_t c;
    long long now = (long long)time(NULL);
    char payload[512];
    snprintf(payload, sizeof payload,
             "{\"iss\":\"iss\",\"aud\":\"aud\",\"sub\":\"0190aaaa-0000-7000-8000-000000000001\","
             "\"acct\":\"0190aaaa-0000-7000-8000-0000000000a1\",\"typ\":\"access\","
             "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"jti\":\"j\"}",
             now, now, now + 600);
    char *old = forge_token("{\"alg\":\"HS256\",\"kid\":\"k1\"}", payload, K1, 256);

    pnk_auth_key_t keys[2] = {{"k2", K2}, {"k1", K1}};
    pnk_auth_config_t cfg = {.issuer = "iss", .audience = "aud", .keys = keys, .nkeys = 2};
    CU_ASSERT_EQUAL_FATAL(pnk_auth_init(&cfg, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_auth_verify_token(old, now, &c, why, sizeof why), PN_OK);
    CU_ASSERT_STRING_EQUAL(c.kid, "k1");

    char svc_payload[512];
    snprintf(svc_payload, sizeof svc_payload,
             "{\"iss\":\"iss\",\"aud\":\"aud\",\"sub\":\"worker-1\",\"typ\":\"service\","
             "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"jti\":\"j\"}",
             now, now, now + 300);
    char *svc = forge_token("{\"alg\":\"HS256\",\"kid\":\"service\"}", svc_payload, SVC, 256);
    CU_ASSERT_EQUAL(pnk_auth_verify_token(svc, now, &c, why, sizeof why), PN_E_UNAUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "unknown key id"));

    cfg.service_secret = SVC;
    CU_ASSERT_EQUAL_FATAL(pnk_auth_init(&cfg, err, sizeof err), PN_OK);
    CU_ASSERT_EQUAL(pnk_auth_verify_token(svc, now, &c, why, sizeof why), PN_OK);
    CU_ASSERT_STRING_EQUAL(c.typ, "service");
    /* Service tokens may live an hour at most. */
    snprintf(svc_payload, sizeof svc_payload,
             "{\"iss\":\"iss\",\"aud\":\"aud\",\"sub\":\"worker-1\",\"typ\":\"service\","
             "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"jti\":\"j\"}",
             now, now, now + 3601);
    char *svc_long = forge_token("{\"alg\":\"HS256\",\"kid\":\"service\"}", svc_payload, SVC, 256);
    CU_ASSERT_EQUAL(pnk_auth_verify_token(svc_long, now, &c, why, sizeof why), PN_E_UNAUTH);

    pnk_auth_fini();
    CU_ASSERT_EQUAL(pnk_auth_verify_token(old, now, &c, why, sizeof why), PN_E_UNAUTH);
    free(old);
    free(svc);
    free(svc_long);
}

static void
test_principal_can(void)
{
    const char *perms[] = {"auth.me.read", "files.files.create", "files.files.read"};
    pnk_principal_t p = {.kind = PNK_PRINCIPAL_USER, .perms = perms, .nperms = 3};
    CU_ASSERT_TRUE(pnk_principal_can(&p, "auth.me.read"));
    CU_ASSERT_TRUE(pnk_principal_can(&p, "files.files.read"));
    CU_ASSERT_TRUE(pnk_principal_can(&p, "files.files.create"));
    CU_ASSERT_FALSE(pnk_principal_can(&p, "files.files.delete"));
    CU_ASSERT_FALSE(pnk_principal_can(&p, "admin.system.read"));
    CU_ASSERT_FALSE(pnk_principal_can(&p, "files.files"));
    CU_ASSERT_FALSE(pnk_principal_can(&p, ""));
    CU_ASSERT_FALSE(pnk_principal_can(&p, NULL));
    CU_ASSERT_FALSE(pnk_principal_can(NULL, "auth.me.read"));

    p.all_perms = true;
    CU_ASSERT_TRUE(pnk_principal_can(&p, "admin.system.read"));
    CU_ASSERT_FALSE(pnk_principal_can(&p, NULL));

    pnk_principal_t none = {.kind = PNK_PRINCIPAL_NONE, .all_perms = true};
    CU_ASSERT_FALSE(pnk_principal_can(&none, "auth.me.read"));
    pnk_principal_t svc = {.kind = PNK_PRINCIPAL_SERVICE, .perms = perms, .nperms = 3};
    CU_ASSERT_FALSE(pnk_principal_can(&svc, "auth.me.read"));
    pnk_principal_t empty = {.kind = PNK_PRINCIPAL_USER};
    CU_ASSERT_FALSE(pnk_principal_can(&empty, "auth.me.read"));
}

void
register_auth_config_tests(void)
{
    CU_pSuite s = CU_add_suite("auth_config", NULL, NULL);
    CU_add_test(s, "init checks", test_auth_init_checks);
    CU_add_test(s, "init rotation and service", test_auth_init_rotation_and_service);
    CU_add_test(s, "principal can", test_principal_can);
}
