/* Trusted proxies and X-Forwarded-For: who the client is, and that a client cannot pick. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "../http_proxy.h"

void register_proxy_tests(void);

static char *
client(const char *spec, const char *peer, const char *xff)
{
    static char out[64];
    char err[128];
    pnk_proxy_list_t *l = pnk_proxy_parse(spec, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    pnk_proxy_client_ip(l, peer, xff, out, sizeof out);
    pnk_proxy_free(l);
    return out;
}

static void
test_parse(void)
{
    char err[128];
    pnk_proxy_list_t *l =
        pnk_proxy_parse("10.0.0.0/8, 127.0.0.1 ::1/128,fd00::/8", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(pnk_proxy_count(l), 4);
    CU_ASSERT_TRUE(pnk_proxy_trusted(l, "10.200.3.4"));
    CU_ASSERT_TRUE(pnk_proxy_trusted(l, "127.0.0.1"));
    CU_ASSERT_FALSE(pnk_proxy_trusted(l, "127.0.0.2"));
    CU_ASSERT_TRUE(pnk_proxy_trusted(l, "::1"));
    CU_ASSERT_TRUE(pnk_proxy_trusted(l, "fd12:3456::9"));
    CU_ASSERT_TRUE(pnk_proxy_trusted(l, "::ffff:10.1.1.1")); /* mapped form of a v4 block */
    CU_ASSERT_FALSE(pnk_proxy_trusted(l, "11.0.0.1"));
    CU_ASSERT_FALSE(pnk_proxy_trusted(l, "not an ip"));
    pnk_proxy_free(l);

    l = pnk_proxy_parse("", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(pnk_proxy_count(l), 0);
    CU_ASSERT_FALSE(pnk_proxy_trusted(l, "127.0.0.1"));
    pnk_proxy_free(l);

    const char *bad[] = {"10.0.0.0/33", "::1/129",     "10.0.0.0/", "10.0.0/8",
                         "example.com", "10.0.0.0/8x", "1.2.3.4/-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_PTR_NULL(pnk_proxy_parse(bad[i], err, sizeof err));
        CU_ASSERT_TRUE(err[0] != '\0');
    }
}

static void
test_client(void)
{
    /* No proxy trusted: the header is ignored whatever it says. */
    CU_ASSERT_STRING_EQUAL(client("", "203.0.113.5", "1.1.1.1"), "203.0.113.5");
    /* Untrusted peer: ignored too. */
    CU_ASSERT_STRING_EQUAL(client("127.0.0.1", "203.0.113.5", "1.1.1.1"), "203.0.113.5");
    /* Trusted peer: the right-most entry is the client the proxy saw. */
    CU_ASSERT_STRING_EQUAL(client("127.0.0.1", "127.0.0.1", "198.51.100.7"), "198.51.100.7");
    /* A client-written entry on the left is never believed. */
    CU_ASSERT_STRING_EQUAL(client("127.0.0.1", "127.0.0.1", "6.6.6.6, 198.51.100.7"),
                           "198.51.100.7");
    /* Chains of trusted proxies are skipped. */
    CU_ASSERT_STRING_EQUAL(
        client("127.0.0.1 10.0.0.0/8", "127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3"),
        "198.51.100.7");
    /* Everything trusted: the left-most hop. */
    CU_ASSERT_STRING_EQUAL(client("10.0.0.0/8 127.0.0.1", "127.0.0.1", "10.0.0.9, 10.0.0.8"),
                           "10.0.0.9");
    /* A malformed entry stops the walk at the hop before it. */
    CU_ASSERT_STRING_EQUAL(client("127.0.0.1", "127.0.0.1", "198.51.100.7, garbage"), "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(client("127.0.0.1", "127.0.0.1", ""), "127.0.0.1");
    CU_ASSERT_STRING_EQUAL(client("127.0.0.1", "127.0.0.1", ",,,"), "127.0.0.1");
    /* Forms some proxies write: ports, brackets, IPv6. */
    CU_ASSERT_STRING_EQUAL(client("127.0.0.1", "127.0.0.1", "198.51.100.7:4711"), "198.51.100.7");
    CU_ASSERT_STRING_EQUAL(client("::1", "::1", "[2001:db8::5]:80"), "2001:db8::5");
    CU_ASSERT_STRING_EQUAL(client("::1", "::1", " 2001:db8::6 "), "2001:db8::6");
    CU_ASSERT_STRING_EQUAL(client("::1", "::1", "::ffff:192.0.2.1"), "::ffff:192.0.2.1");
    /* No header. */
    CU_ASSERT_STRING_EQUAL(client("127.0.0.1", "127.0.0.1", NULL), "127.0.0.1");
}

static void
test_peer(void)
{
    char out[64];
    CU_ASSERT_TRUE(pnk_proxy_peer_ip("127.0.0.1:5000", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "127.0.0.1");
    CU_ASSERT_TRUE(pnk_proxy_peer_ip("[::1]:5000", out, sizeof out));
    CU_ASSERT_STRING_EQUAL(out, "::1");
    CU_ASSERT_FALSE(pnk_proxy_peer_ip("", out, sizeof out));
    CU_ASSERT_FALSE(pnk_proxy_peer_ip(NULL, out, sizeof out));
    CU_ASSERT_FALSE(pnk_proxy_peer_ip("[::1]:5000", out, 3));
}

void
register_proxy_tests(void)
{
    CU_pSuite s = CU_add_suite("proxy", NULL, NULL);
    CU_add_test(s, "parse", test_parse);
    CU_add_test(s, "client", test_client);
    CU_add_test(s, "peer", test_peer);
}
