/*
 * Unit tests of the storage plugin's pieces that need no emulator: key validation, encoding,
 * SigV4 against AWS's published vectors and against libcurl's own signer (both flavours),
 * credential sealing, the per-provider field tables and masks, and the endpoint guard.
 */
#include "st_http.h"
#include "storage_conf.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- keys ---- */

static void
test_keys(void)
{
    static const char *const good[] = {"a",   "a/b/c.txt", "dir/a b+c(1)\xc3\xa9.txt",  "x..y",
                                       "..a", "a.",        "thumbnails/0190/small.jpg", NULL};
    static const char *const bad[] = {"",         "/etc/passwd", "../x",         "a/../x",
                                      "..",       ".",           "./a",          "a/./b",
                                      "a//b",     "a/",          "..%2fx",       "a/..%2f..%2fx",
                                      "%2e%2e/x", "a\\..\\x",    "a\\b",         "x\x01y",
                                      "x\ny",     "x\x7fy",      ".pn-tmp-1234", "a/.pn-health",
                                      NULL};
    st_err_t e;

    for (int i = 0; good[i]; i++)
        CU_ASSERT_EQUAL_FATAL(st_key_check(good[i], &e), PN_OK);
    for (int i = 0; bad[i]; i++) {
        CU_ASSERT_EQUAL(st_key_check(bad[i], &e), PN_E_INVALID);
        if (st_key_check(bad[i], NULL) != PN_E_INVALID)
            fprintf(stderr, "key accepted: %s\n", bad[i]);
    }
    CU_ASSERT_EQUAL(st_key_check(NULL, &e), PN_E_INVALID);

    char longkey[ST_KEY_MAX + 2];
    memset(longkey, 'a', sizeof longkey);
    for (int i = 100; i < ST_KEY_MAX; i += 100)
        longkey[i] = '/';
    longkey[ST_KEY_MAX] = '\0';
    CU_ASSERT_EQUAL(st_key_check(longkey, &e), PN_OK);
    longkey[ST_KEY_MAX] = 'a';
    longkey[ST_KEY_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(st_key_check(longkey, &e), PN_E_INVALID);
    char comp[ST_COMPONENT_MAX + 2];
    memset(comp, 'c', ST_COMPONENT_MAX + 1);
    comp[ST_COMPONENT_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(st_key_check(comp, &e), PN_E_INVALID);
    comp[ST_COMPONENT_MAX] = '\0';
    CU_ASSERT_EQUAL(st_key_check(comp, &e), PN_OK);

    char out[64];
    CU_ASSERT_EQUAL(st_prefix_check("tenant/a/", out, sizeof out, &e), PN_OK);
    CU_ASSERT_STRING_EQUAL(out, "tenant/a/");
    CU_ASSERT_EQUAL(st_prefix_check("../up", out, sizeof out, &e), PN_E_INVALID);
    CU_ASSERT_EQUAL(st_prefix_check("", out, sizeof out, &e), PN_OK);
    CU_ASSERT_STRING_EQUAL(out, "");
}

/* ---- encoding ---- */

static void
test_encoding(void)
{
    st_buf_t b = {0};
    st_uri_encode(&b, "a b+c(1)\xc3\xa9~-_./x", true);
    CU_ASSERT_STRING_EQUAL(b.s, "a%20b%2Bc%281%29%C3%A9~-_./x");
    st_buf_free(&b);
    st_uri_encode(&b, "a/b", false);
    CU_ASSERT_STRING_EQUAL(b.s, "a%2Fb");
    st_buf_free(&b);

    st_kv_t q[] = {{"uploadId", "x/y"}, {"partNumber", "10"}, {"uploads", ""}, {"a", NULL}};
    char *c = st_canonical_query(q, 4);
    CU_ASSERT_STRING_EQUAL(c, "a=&partNumber=10&uploadId=x%2Fy&uploads=");
    free(c);

    unsigned char out[64];
    char enc[64];
    st_b64_encode((const unsigned char *)"hello!", 6, enc);
    CU_ASSERT_STRING_EQUAL(enc, "aGVsbG8h");
    CU_ASSERT_EQUAL(st_b64_decode("aGVsbG8h", out, sizeof out), 6);
    CU_ASSERT_EQUAL(st_b64_decode("aGVsbG8=", out, sizeof out), 5);
    CU_ASSERT_EQUAL(st_b64_decode("aGVsbG9=", out, sizeof out), -1); /* stray bits */
    CU_ASSERT_EQUAL(st_b64_decode("aGVsbG8", out, sizeof out), -1);
    CU_ASSERT_EQUAL(st_b64_decode("aG=sbG8h", out, sizeof out), -1);
    CU_ASSERT_EQUAL(st_b64_decode("aGVs*G8h", out, sizeof out), -1);

    char v[64];
    CU_ASSERT_TRUE(st_xml_get("<a><UploadId>x&amp;y&quot;</UploadId></a>", "UploadId", v, 64));
    CU_ASSERT_STRING_EQUAL(v, "x&y\"");
    CU_ASSERT_FALSE(st_xml_get("<a><UploadId>x</a>", "UploadId", v, 64));
}

/* ---- SigV4: AWS's published examples (Amazon S3 API reference, Signature Version 4) ---- */

static const st_sigv4_t aws_example = {
    .goog = false,
    .region = "us-east-1",
    .service = "s3",
    .access_key = "AKIAIOSFODNN7EXAMPLE",
    .secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

static void
test_sigv4_vectors(void)
{
    const char *empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /* GET Object with a Range header. */
    st_kv_t h1[] = {{"range", "bytes=0-9"},
                    {"x-amz-content-sha256", empty},
                    {"x-amz-date", "20130524T000000Z"}};
    char *a = st_sigv4_authorization(&aws_example, "GET", "examplebucket.s3.amazonaws.com",
                                     "/test.txt", NULL, 0, h1, 3, empty, "20130524T000000Z");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(
        a, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
           "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
           "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    free(a);

    /* GET Bucket (list objects) with a query string given unsorted. */
    st_kv_t q[] = {{"prefix", "J"}, {"max-keys", "2"}};
    st_kv_t h2[] = {{"x-amz-date", "20130524T000000Z"}, {"x-amz-content-sha256", empty}};
    a = st_sigv4_authorization(&aws_example, "GET", "examplebucket.s3.amazonaws.com", "/", q, 2, h2,
                               2, empty, "20130524T000000Z");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(a, "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
    free(a);

    /* Presigned GET for one day. */
    char *p = st_sigv4_presign(&aws_example, "GET", "examplebucket.s3.amazonaws.com", "/test.txt",
                               86400, "20130524T000000Z");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(
        p, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
           "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
           "X-Amz-SignedHeaders=host&X-Amz-Signature="
           "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    free(p);

    /* One changed byte of the secret changes the signature. */
    st_sigv4_t other = aws_example;
    other.secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz";
    p = st_sigv4_presign(&other, "GET", "examplebucket.s3.amazonaws.com", "/test.txt", 86400,
                         "20130524T000000Z");
    CU_ASSERT_PTR_NULL(
        strstr(p, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"));
    free(p);

    /* GOOG4 presign: same construction, Google's names. */
    st_sigv4_t goog = aws_example;
    goog.goog = true;
    goog.region = "auto";
    goog.service = "storage";
    p = st_sigv4_presign(&goog, "GET", "storage.googleapis.com", "/bucket/o.txt", 900,
                         "20240101T000000Z");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(p, "X-Goog-Algorithm=GOOG4-HMAC-SHA256&X-Goog-Credential="
                                     "AKIAIOSFODNN7EXAMPLE%2F20240101%2Fauto%2Fstorage%2F"
                                     "goog4_request&X-Goog-Date=20240101T000000Z&"
                                     "X-Goog-Expires=900&X-Goog-SignedHeaders=host&"
                                     "X-Goog-Signature="));
    free(p);
}

/* ---- SigV4 against libcurl's signer: a one-shot capture server on loopback ---- */

typedef struct capture {
    int lfd;
    char head[8192];
} capture_t;

static void *
capture_main(void *arg)
{
    capture_t *c = arg;
    int fd = accept(c->lfd, NULL, NULL);
    size_t n = 0;
    if (fd < 0)
        return NULL;
    while (n + 1 < sizeof c->head) {
        ssize_t r = read(fd, c->head + n, sizeof c->head - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        c->head[n] = '\0';
        if (strstr(c->head, "\r\n\r\n"))
            break;
    }
    const char *reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!write(fd, reply, strlen(reply));
    close(fd);
    return NULL;
}

static const char *
header(const char *head, const char *name, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\r\n%s: ", name);
    const char *p = strcasestr(head, pat);
    if (p == NULL)
        return NULL;
    p += strlen(pat);
    size_t len = strcspn(p, "\r");
    snprintf(out, n, "%.*s", (int)len, p);
    return out;
}

static void
curl_cross_check(bool goog)
{
    capture_t cap = {0};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    pthread_t t;

    cap.lfd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(cap.lfd >= 0);
    CU_ASSERT_FATAL(bind(cap.lfd, (struct sockaddr *)&a, sizeof a) == 0);
    CU_ASSERT_FATAL(listen(cap.lfd, 1) == 0);
    getsockname(cap.lfd, (struct sockaddr *)&a, &al);
    CU_ASSERT_FATAL(pthread_create(&t, NULL, capture_main, &cap) == 0);

    char url[256], host[64];
    int port = ntohs(a.sin_port);
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    snprintf(url, sizeof url, "http://%s/bucket/dir/a%%20b.txt?partNumber=2&uploadId=u%%2Fv", host);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, goog ? "x-goog-content-sha256: UNSIGNED-PAYLOAD"
                                                        : "x-amz-content-sha256: "
                                                          "UNSIGNED-PAYLOAD");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4,
                     goog ? "goog:goog:auto:storage" : "aws:amz:eu-west-1:s3");
    curl_easy_setopt(c, CURLOPT_USERPWD, "GOOGTESTID123:s3cr3t/k+ey");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CU_ASSERT_EQUAL(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    pthread_join(t, NULL);
    close(cap.lfd);

    char got_auth[512], date[64];
    CU_ASSERT_PTR_NOT_NULL_FATAL(header(cap.head, "Authorization", got_auth, sizeof got_auth));
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        header(cap.head, goog ? "x-goog-date" : "x-amz-date", date, sizeof date));

    st_sigv4_t s = {.goog = goog,
                    .region = goog ? "auto" : "eu-west-1",
                    .service = goog ? "storage" : "s3",
                    .access_key = "GOOGTESTID123",
                    .secret = "s3cr3t/k+ey"};
    st_kv_t q[] = {{"uploadId", "u/v"}, {"partNumber", "2"}};
    st_kv_t hd[] = {{goog ? "x-goog-content-sha256" : "x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
                    {goog ? "x-goog-date" : "x-amz-date", date}};
    char *mine = st_sigv4_authorization(&s, "GET", host, "/bucket/dir/a%20b.txt", q, 2, hd, 2,
                                        "UNSIGNED-PAYLOAD", date);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mine);
    if (strcmp(mine, got_auth) != 0)
        fprintf(stderr, "\ncurl:  %s\nours:  %s\n", got_auth, mine);
    CU_ASSERT_STRING_EQUAL(mine, got_auth);
    free(mine);
}

static void
test_sigv4_vs_curl_aws(void)
{
    curl_cross_check(false);
}

static void
test_sigv4_vs_curl_goog(void)
{
    curl_cross_check(true);
}

/* ---- sealing ---- */

static void
test_seal(void)
{
    st_master_t m, m2;
    st_err_t e;
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    CU_ASSERT_EQUAL(st_master_parse(hex, &m, &e), PN_OK);
    CU_ASSERT_TRUE(m.set);
    CU_ASSERT_EQUAL(st_master_parse("abc", &m2, &e), PN_E_INVALID);
    CU_ASSERT_EQUAL(st_master_parse("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
                                    "1e1f",
                                    &m2, &e),
                    PN_E_INVALID);
    CU_ASSERT_EQUAL(st_master_parse("", &m2, &e), PN_OK);
    CU_ASSERT_FALSE(m2.set);

    json_t *plain = json_pack("{s:s, s:s}", "access_key_id", "AKIDEXAMPLE12345",
                              "secret_access_key", "very-secret-value");
    json_t *sealed = st_seal(&m, plain, "row-1:acct-1", &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sealed);
    char *text = json_dumps(sealed, 0);
    CU_ASSERT_PTR_NULL(strstr(text, "very-secret-value"));
    CU_ASSERT_PTR_NULL(strstr(text, "AKIDEXAMPLE"));
    free(text);

    json_t *back = st_unseal(&m, sealed, "row-1:acct-1", &e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_TRUE(json_equal(back, plain));
    json_decref(back);

    /* Another row, another key, a changed byte: refused. */
    CU_ASSERT_PTR_NULL(st_unseal(&m, sealed, "row-2:acct-1", &e));
    CU_ASSERT_PTR_NULL(st_unseal(&m2, sealed, "row-1:acct-1", &e));
    st_master_parse("ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &m2, &e);
    CU_ASSERT_PTR_NULL(st_unseal(&m2, sealed, "row-1:acct-1", &e));
    char *ct = strdup(json_string_value(json_object_get(sealed, "ct")));
    ct[3] = ct[3] == 'A' ? 'B' : 'A';
    json_object_set_new(sealed, "ct", json_string(ct));
    CU_ASSERT_PTR_NULL(st_unseal(&m, sealed, "row-1:acct-1", &e));
    free(ct);

    /* Two seals of the same value differ (fresh nonce). */
    json_t *s1 = st_seal(&m, plain, "x", &e), *s2 = st_seal(&m, plain, "x", &e);
    CU_ASSERT_STRING_NOT_EQUAL(json_string_value(json_object_get(s1, "nonce")),
                               json_string_value(json_object_get(s2, "nonce")));
    json_decref(s1);
    json_decref(s2);
    json_decref(sealed);
    json_decref(plain);
}

/* ---- field tables and masks ---- */

static int problems;
static void
count_problem(void *ud, const char *field, const char *msg)
{
    (void)ud, (void)field, (void)msg;
    problems++;
}

static void
test_conf(void)
{
    json_t *ok = json_pack("{s:s, s:s, s:s, s:b}", "bucket", "b1x", "access_key_id", "AKID1234",
                           "secret_access_key", "s", "force_path_style", 1);
    CU_ASSERT_EQUAL(st_conf_check("s3", ok, count_problem, NULL), 0);
    json_t *bad = json_pack("{s:i, s:s, s:s, s:s}", "bucket", 3, "nope", "x",
                            "server_side_encryption", "aws:kms", "access_key_id", "");
    problems = 0;
    /* bucket type, unknown field, enum, empty id, missing secret */
    CU_ASSERT_EQUAL(st_conf_check("s3", bad, count_problem, NULL), 5);
    CU_ASSERT_EQUAL(problems, 5);
    CU_ASSERT_EQUAL(st_conf_check("ftp", ok, NULL, NULL), 1);
    CU_ASSERT_TRUE(st_conf_has_secrets("gcs"));
    CU_ASSERT_FALSE(st_conf_has_secrets("local"));

    json_t *pub, *secret;
    st_conf_split("s3", ok, &pub, &secret);
    CU_ASSERT_PTR_NULL(json_object_get(pub, "secret_access_key"));
    CU_ASSERT_PTR_NOT_NULL(json_object_get(pub, "bucket"));
    CU_ASSERT_EQUAL(json_object_size(secret), 2);
    json_decref(pub);
    json_decref(secret);

    json_t *creds = json_pack("{s:s, s:s}", "access_key_id", "AKIAIOSFODNN7EXAMPLE",
                              "secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    json_t *m = st_conf_mask("s3", creds);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m, "access_key_id")), "AKIA****MPLE");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m, "secret_access_key")), "********");
    char *s = st_mask("short", true);
    CU_ASSERT_STRING_EQUAL(s, "****");
    free(s);
    json_decref(m);
    json_decref(creds);
    json_decref(ok);
    json_decref(bad);
}

/* ---- endpoints and the address guard ---- */

static void
test_endpoints(void)
{
    st_endpoint_t ep;
    st_err_t e;
    char hp[300];

    CU_ASSERT_EQUAL(st_endpoint_parse("https://s3.eu-west-1.amazonaws.com", false, &ep, &e), PN_OK);
    st_endpoint_hostport(&ep, hp, sizeof hp);
    CU_ASSERT_STRING_EQUAL(hp, "s3.eu-west-1.amazonaws.com");
    CU_ASSERT_EQUAL(st_endpoint_parse("http://127.0.0.1:10000/devstoreaccount1/", true, &ep, &e),
                    PN_OK);
    st_endpoint_hostport(&ep, hp, sizeof hp);
    CU_ASSERT_STRING_EQUAL(hp, "127.0.0.1:10000");
    CU_ASSERT_STRING_EQUAL(ep.path, "/devstoreaccount1");

    static const char *const refused[] = {"http://example.com",
                                          "https://127.0.0.1",
                                          "https://10.1.2.3:9000",
                                          "https://169.254.169.254/",
                                          "https://[::1]:8080",
                                          "https://localhost",
                                          "https://[::ffff:127.0.0.1]",
                                          "https://192.168.1.1",
                                          "https://user@example.com",
                                          "https://example.com/a?x=1",
                                          "ftp://example.com",
                                          "https://example.com/../x",
                                          "https://0.0.0.0",
                                          "https://100.64.0.1",
                                          "https://[fd00::1]",
                                          NULL};
    for (int i = 0; refused[i]; i++) {
        int rc = st_endpoint_parse(refused[i], false, &ep, &e);
        if (rc == PN_OK)
            fprintf(stderr, "endpoint accepted: %s\n", refused[i]);
        CU_ASSERT_EQUAL(rc, PN_E_INVALID);
    }

    CU_ASSERT_EQUAL(st_endpoint_parse("https://LocalHost.", false, &ep, &e), PN_E_INVALID);
    CU_ASSERT_EQUAL(st_endpoint_parse("https://a.localhost", false, &ep, &e), PN_E_INVALID);

    /* The connect-time guard on resolved addresses. */
    static const struct {
        int family;
        const char *addr;
        bool blocked;
    } addrs[] = {
        {AF_INET, "127.0.0.1", true},
        {AF_INET, "10.0.0.1", true},
        {AF_INET, "172.16.5.4", true},
        {AF_INET, "172.32.0.1", false},
        {AF_INET, "192.168.0.1", true},
        {AF_INET, "169.254.169.254", true},
        {AF_INET, "100.64.1.1", true},
        {AF_INET, "100.128.0.1", false},
        {AF_INET, "0.0.0.0", true},
        {AF_INET, "224.0.0.1", true},
        {AF_INET, "255.255.255.255", true},
        {AF_INET, "8.8.8.8", false},
        {AF_INET, "52.216.0.1", false},
        {AF_INET6, "::1", true},
        {AF_INET6, "::", true},
        {AF_INET6, "fe80::1", true},
        {AF_INET6, "fd12::1", true},
        {AF_INET6, "ff02::1", true},
        {AF_INET6, "::ffff:127.0.0.1", true},
        {AF_INET6, "::ffff:8.8.8.8", false},
        {AF_INET6, "64:ff9b::a00:1", true},
        {AF_INET6, "2606:4700::1", false},
    };
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        struct sockaddr_storage ss = {0};
        if (addrs[i].family == AF_INET) {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
            a4->sin_family = AF_INET;
            inet_pton(AF_INET, addrs[i].addr, &a4->sin_addr);
        } else {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
            a6->sin6_family = AF_INET6;
            inet_pton(AF_INET6, addrs[i].addr, &a6->sin6_addr);
        }
        bool got = st_addr_blocked((struct sockaddr *)&ss);
        if (got != addrs[i].blocked)
            fprintf(stderr, "guard wrong for %s\n", addrs[i].addr);
        CU_ASSERT_EQUAL(got, addrs[i].blocked);
    }
}

/* End to end through curl: a name resolving to loopback passes the parser (it is not a
 * literal), the connect-time guard refuses it. The machine's own host name is such a name
 * on most systems (here it is checked, not assumed). */
static void
test_guard_connect(void)
{
    st_opts_t o;
    st_err_t e;
    char name[256] = "", ep[300];

    st_opts_default(&o);
    o.connect_timeout = 5;
    /* Use the host name only if it resolves to an address the guard refuses. */
    struct addrinfo *ai = NULL, hints = {.ai_socktype = SOCK_STREAM};
    if (gethostname(name, sizeof name - 1) != 0 || strlen(name) > 200 ||
        getaddrinfo(name, NULL, &hints, &ai) != 0 || ai == NULL || !st_addr_blocked(ai->ai_addr))
        name[0] = '\0';
    if (ai != NULL)
        freeaddrinfo(ai);
    if (name[0] == '\0') {
        fprintf(stderr, "(no host name resolving to a private address; guard checked on a "
                        "literal through the parser only)\n");
        return;
    }
    snprintf(ep, sizeof ep, "https://%s:1", name);
    json_t *conf =
        json_pack("{s:s, s:s, s:b}", "bucket", "pn-test", "endpoint", ep, "force_path_style", 1);
    json_t *creds = json_pack("{s:s, s:s}", "access_key_id", "a", "secret_access_key", "b");
    st_backend_t *b = NULL;
    CU_ASSERT_EQUAL_FATAL(st_backend_new("s3", conf, creds, &o, &b, &e), PN_OK);
    int rc = st_health(b, &e);
    CU_ASSERT_EQUAL(rc, PN_E_UNAVAILABLE);
    if (strstr(e.msg, "not allowed") == NULL)
        fprintf(stderr, "guard message: %s\n", e.msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not allowed"));
    st_backend_free(b);
    json_decref(conf);
    json_decref(creds);
}

int main(void);

int
main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("storage_unit", NULL, NULL);
    CU_add_test(s, "keys", test_keys);
    CU_add_test(s, "encoding", test_encoding);
    CU_add_test(s, "sigv4 published vectors", test_sigv4_vectors);
    CU_add_test(s, "sigv4 equals libcurl (AWS4)", test_sigv4_vs_curl_aws);
    CU_add_test(s, "sigv4 equals libcurl (GOOG4)", test_sigv4_vs_curl_goog);
    CU_add_test(s, "credential sealing", test_seal);
    CU_add_test(s, "field tables and masks", test_conf);
    CU_add_test(s, "endpoints and address guard", test_endpoints);
    CU_add_test(s, "address guard at connect", test_guard_connect);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    curl_global_cleanup();
    return failed ? 1 : 0;
}
