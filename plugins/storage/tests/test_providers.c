/*
 * The provider test suite, run identically against every provider named on the command line
 * (local, s3, gcs, azure). Remote providers read their emulator's endpoint and credentials
 * from PN_TEST_* variables set by tests/interop/storage/run.sh; a missing variable fails the
 * suite. Covers put/get/stat/remove, ranges, 50 MiB streamed in bounded memory, atomic
 * overwrite, refused keys, planted symlinks, presigned URLs, wrong credentials and health.
 */
#include "st.h"

#include <CUnit/Basic.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct prov {
    const char *name;
    bool remote;
    json_t *conf, *creds;
    st_opts_t opts;
    st_backend_t *b;      /* the backend under test */
    st_backend_t *reader; /* a second one, for reads during a put */
    char tmp[256];        /* local: the temporary folder holding root/ and outside/ */
    char root[300];
    char outside[300];
    char run[32]; /* key prefix of this run */
} prov_t;

static prov_t P;

static char *
key(const char *k)
{
    static char buf[4][1200];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", P.run, k);
    return b;
}

/* ---- sources and sinks ---- */

typedef struct mem_src {
    const char *data;
    size_t len, off, chunk;
} mem_src_t;

static int
mem_source(void *ud, void *buf, size_t cap, size_t *got)
{
    mem_src_t *m = ud;
    size_t n = m->len - m->off;
    if (n > cap)
        n = cap;
    if (m->chunk && n > m->chunk)
        n = m->chunk;
    memcpy(buf, m->data + m->off, n);
    m->off += n;
    *got = n;
    return PN_OK;
}

typedef struct mem_sink {
    char *data;
    size_t len, cap;
} mem_sink_t;

static int
mem_sink(void *ud, const void *buf, size_t len)
{
    mem_sink_t *m = ud;
    if (m->len + len + 1 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        while (cap < m->len + len + 1)
            cap *= 2;
        char *p = realloc(m->data, cap);
        if (p == NULL)
            return PN_E_INTERNAL;
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, buf, len);
    m->len += len;
    m->data[m->len] = '\0';
    return PN_OK;
}

static int
put_bytes(st_backend_t *b, const char *k, const char *data, size_t len, const char *ctype)
{
    mem_src_t src = {data, len, 0, 0};
    st_err_t e = {0};
    int rc = st_put(b, k, mem_source, &src, len, ctype, &e);
    if (rc != PN_OK && rc != PN_E_INVALID)
        fprintf(stderr, "[%s] put %s: %d %s\n", P.name, k, rc, e.msg);
    return rc;
}

/* Get into a fresh buffer (free m.data). */
static int
get_bytes(st_backend_t *b, const char *k, uint64_t off, uint64_t len, mem_sink_t *m)
{
    st_err_t e = {0};
    memset(m, 0, sizeof *m);
    int rc = st_get(b, k, off, len, mem_sink, m, &e);
    if (rc != PN_OK && rc != PN_E_NOTFOUND && rc != PN_E_RANGE && rc != PN_E_INVALID)
        fprintf(stderr, "[%s] get %s: %d %s\n", P.name, k, rc, e.msg);
    return rc;
}

/* ---- setup ---- */

static const char *
env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        fprintf(stderr,
                "%s is not set: run the remote providers through "
                "tests/interop/storage/run.sh\n",
                name);
    return v && v[0] ? v : NULL;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(path);
}

static int
suite_init(const char *name)
{
    memset(&P, 0, sizeof P);
    P.name = name;
    P.remote = strcmp(name, "local") != 0;
    st_opts_default(&P.opts);
    P.opts.allow_private = true; /* emulators on loopback */
    P.opts.io_timeout = 30;
    snprintf(P.run, sizeof P.run, "run-%lx-%d", (unsigned long)time(NULL), (int)getpid());

    if (strcmp(name, "local") == 0) {
        snprintf(P.tmp, sizeof P.tmp, "/tmp/pn-storage-local.XXXXXX");
        if (mkdtemp(P.tmp) == NULL)
            return CUE_SINIT_FAILED;
        snprintf(P.root, sizeof P.root, "%s/root", P.tmp);
        snprintf(P.outside, sizeof P.outside, "%s/outside", P.tmp);
        if (mkdir(P.outside, 0700) != 0)
            return CUE_SINIT_FAILED;
        P.conf = json_pack("{s:s}", "root", P.root);
        P.creds = NULL;
    } else if (strcmp(name, "s3") == 0 || strcmp(name, "gcs") == 0) {
        bool gcs = strcmp(name, "gcs") == 0;
        const char *ep = env("PN_TEST_S3_ENDPOINT"), *k = env("PN_TEST_S3_KEY"),
                   *s = env("PN_TEST_S3_SECRET"),
                   *bucket = env(gcs ? "PN_TEST_GCS_BUCKET" : "PN_TEST_S3_BUCKET");
        if (!ep || !k || !s || !bucket)
            return CUE_SINIT_FAILED;
        if (gcs) {
            /* GCS's XML API with HMAC keys, signed the AWS4 way its interoperability mode
             * accepts: the only form an emulator here can check (GOOG4 is checked against
             * libcurl's signer in test_storage_unit). */
            P.conf =
                json_pack("{s:s, s:s, s:s}", "bucket", bucket, "endpoint", ep, "signature", "aws4");
            P.creds = json_pack("{s:s, s:s}", "hmac_access_id", k, "hmac_secret", s);
        } else {
            P.conf = json_pack("{s:s, s:s, s:b, s:s, s:s}", "bucket", bucket, "endpoint", ep,
                               "force_path_style", 1, "region", "us-east-1",
                               "server_side_encryption", "AES256");
            P.creds = json_pack("{s:s, s:s}", "access_key_id", k, "secret_access_key", s);
        }
    } else if (strcmp(name, "azure") == 0) {
        const char *ep = env("PN_TEST_AZURE_ENDPOINT"), *acct = env("PN_TEST_AZURE_ACCOUNT"),
                   *k = env("PN_TEST_AZURE_KEY"), *c = env("PN_TEST_AZURE_CONTAINER");
        if (!ep || !acct || !k || !c)
            return CUE_SINIT_FAILED;
        P.conf = json_pack("{s:s, s:s, s:s}", "account_name", acct, "container", c, "endpoint", ep);
        P.creds = json_pack("{s:s}", "account_key", k);
    } else {
        fprintf(stderr, "unknown provider %s\n", name);
        return CUE_SINIT_FAILED;
    }
    st_err_t e = {0};
    if (st_backend_new(name, P.conf, P.creds, &P.opts, &P.b, &e) != PN_OK ||
        st_backend_new(name, P.conf, P.creds, &P.opts, &P.reader, &e) != PN_OK) {
        fprintf(stderr, "[%s] backend: %s\n", name, e.msg);
        return CUE_SINIT_FAILED;
    }
    if (strcmp(name, "azure") == 0 && st_azure_create_container(P.b, &e) != PN_OK) {
        fprintf(stderr, "[azure] container: %s\n", e.msg);
        return CUE_SINIT_FAILED;
    }
    return CUE_SUCCESS;
}

static int
suite_clean(void)
{
    st_backend_free(P.b);
    st_backend_free(P.reader);
    json_decref(P.conf);
    json_decref(P.creds);
    if (P.tmp[0] != '\0')
        nftw(P.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    memset(&P, 0, sizeof P);
    return 0;
}

static int
init_local(void)
{
    return suite_init("local");
}
static int
init_s3(void)
{
    return suite_init("s3");
}
static int
init_gcs(void)
{
    return suite_init("gcs");
}
static int
init_azure(void)
{
    return suite_init("azure");
}

/* ---- tests ---- */

static void
test_put_get_stat_remove(void)
{
    const char *k = key("basic/hello.txt");
    const char *text = "hello, storage";
    pn_storage_info_t info;
    mem_sink_t m;
    st_err_t e = {0};

    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, k, text, strlen(text), "text/plain"), PN_OK);
    CU_ASSERT_EQUAL(st_stat(P.b, k, &info, &e), PN_OK);
    CU_ASSERT_EQUAL(info.size, strlen(text));
    CU_ASSERT_NOT_EQUAL(info.etag[0], '\0');
    if (P.remote || info.content_type[0] != '\0') /* local keeps it in an xattr if it can */
        CU_ASSERT_STRING_EQUAL(info.content_type, "text/plain");
    CU_ASSERT_EQUAL(st_stat(P.b, k, NULL, &e), PN_OK);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 0, 0, &m), PN_OK);
    CU_ASSERT_EQUAL(m.len, strlen(text));
    CU_ASSERT(m.data && memcmp(m.data, text, m.len) == 0);
    free(m.data);

    /* Overwrite with a different size. */
    CU_ASSERT_EQUAL(put_bytes(P.b, k, "x", 1, NULL), PN_OK);
    CU_ASSERT_EQUAL(st_stat(P.b, k, &info, &e), PN_OK);
    CU_ASSERT_EQUAL(info.size, 1);

    CU_ASSERT_EQUAL(st_remove(P.b, k, &e), PN_OK);
    CU_ASSERT_EQUAL(st_stat(P.b, k, &info, &e), PN_E_NOTFOUND);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 0, 0, &m), PN_E_NOTFOUND);
    free(m.data);
    CU_ASSERT_EQUAL(st_remove(P.b, k, &e), PN_OK); /* removing what is gone succeeds */
    CU_ASSERT_EQUAL(st_stat(P.b, key("basic/never-written"), NULL, &e), PN_E_NOTFOUND);
}

static void
test_odd_names(void)
{
    /* Bytes that need percent-encoding in URLs and signatures. */
    const char *k = key("odd/a b+c(1)\xc3\xa9=&?#;,!'*~.txt");
    mem_sink_t m;
    st_err_t e = {0};

    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, k, "odd", 3, NULL), PN_OK);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 0, 0, &m), PN_OK);
    CU_ASSERT(m.len == 3 && memcmp(m.data, "odd", 3) == 0);
    free(m.data);
    CU_ASSERT_EQUAL(st_stat(P.b, k, NULL, &e), PN_OK);
    CU_ASSERT_EQUAL(st_remove(P.b, k, &e), PN_OK);
    CU_ASSERT_EQUAL(st_stat(P.b, k, NULL, &e), PN_E_NOTFOUND);
}

static void
test_ranges(void)
{
    char data[1000];
    const char *k = key("range/obj.bin");
    mem_sink_t m;

    for (int i = 0; i < 1000; i++)
        data[i] = (char)('A' + i % 26);
    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, k, data, sizeof data, NULL), PN_OK);

    CU_ASSERT_EQUAL(get_bytes(P.b, k, 10, 20, &m), PN_OK);
    CU_ASSERT(m.len == 20 && memcmp(m.data, data + 10, 20) == 0);
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 990, 100, &m), PN_OK); /* clipped to the end */
    CU_ASSERT(m.len == 10 && memcmp(m.data, data + 990, 10) == 0);
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 999, 0, &m), PN_OK);
    CU_ASSERT(m.len == 1 && m.data[0] == data[999]);
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 0, 1, &m), PN_OK);
    CU_ASSERT(m.len == 1 && m.data[0] == 'A');
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 500, 0, &m), PN_OK);
    CU_ASSERT(m.len == 500 && memcmp(m.data, data + 500, 500) == 0);
    free(m.data);

    CU_ASSERT_EQUAL(get_bytes(P.b, k, 1000, 0, &m), PN_E_RANGE);
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 1000, 5, &m), PN_E_RANGE);
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 5000, 1, &m), PN_E_RANGE);
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, k, UINT64_MAX - 2, 10, &m), PN_E_RANGE);
    free(m.data);

    /* An empty object: whole reads give nothing, any offset is past the end. */
    const char *z = key("range/empty");
    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, z, "", 0, NULL), PN_OK);
    pn_storage_info_t info;
    st_err_t e = {0};
    CU_ASSERT_EQUAL(st_stat(P.b, z, &info, &e), PN_OK);
    CU_ASSERT_EQUAL(info.size, 0);
    CU_ASSERT_EQUAL(get_bytes(P.b, z, 0, 0, &m), PN_OK);
    CU_ASSERT_EQUAL(m.len, 0);
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, z, 0, 10, &m), PN_OK);
    CU_ASSERT_EQUAL(m.len, 0);
    free(m.data);
    CU_ASSERT_EQUAL(get_bytes(P.b, z, 1, 0, &m), PN_E_RANGE);
    free(m.data);
}

/* ---- 50 MiB streamed both ways in bounded memory ---- */

#define BIG_SIZE (50u * 1024 * 1024)
#define RSS_LIMIT (32u * 1024 * 1024)

static size_t
rss_now(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

typedef struct gen {
    uint64_t state;
    size_t left;
    EVP_MD_CTX *md;
    size_t base_rss, peak_rss;
    unsigned calls;
} gen_t;

static int
gen_source(void *ud, void *buf, size_t cap, size_t *got)
{
    gen_t *g = ud;
    size_t n = g->left < cap ? g->left : cap;
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        g->state ^= g->state << 13;
        g->state ^= g->state >> 7;
        g->state ^= g->state << 17;
        p[i] = (unsigned char)g->state;
    }
    EVP_DigestUpdate(g->md, buf, n);
    g->left -= n;
    *got = n;
    if ((++g->calls & 15) == 0 || n == 0) {
        size_t r = rss_now();
        if (r > g->peak_rss)
            g->peak_rss = r;
    }
    return PN_OK;
}

typedef struct hash_sink {
    EVP_MD_CTX *md;
    uint64_t n;
    size_t peak_rss;
    unsigned calls;
} hash_sink_t;

static int
hash_sink(void *ud, const void *buf, size_t len)
{
    hash_sink_t *h = ud;
    EVP_DigestUpdate(h->md, buf, len);
    h->n += len;
    if ((++h->calls & 63) == 0) {
        size_t r = rss_now();
        if (r > h->peak_rss)
            h->peak_rss = r;
    }
    return PN_OK;
}

static void
test_stream_50mib(void)
{
    const char *k = key("big/50mib.bin");
    unsigned char want[32], got[32];
    unsigned int wl = 32, gl = 32;
    st_err_t e = {0};

    gen_t g = {.state = 0x9e3779b97f4a7c15ull, .left = BIG_SIZE, .md = EVP_MD_CTX_new()};
    EVP_DigestInit_ex(g.md, EVP_sha256(), NULL);
    g.base_rss = g.peak_rss = rss_now();
    int rc = st_put(P.b, k, gen_source, &g, 0 /* size unknown */, "application/octet-stream", &e);
    if (rc != PN_OK)
        fprintf(stderr, "[%s] big put: %s\n", P.name, e.msg);
    CU_ASSERT_EQUAL_FATAL(rc, PN_OK);
    EVP_DigestFinal_ex(g.md, want, &wl);
    EVP_MD_CTX_free(g.md);

    pn_storage_info_t info;
    CU_ASSERT_EQUAL(st_stat(P.b, k, &info, &e), PN_OK);
    CU_ASSERT_EQUAL(info.size, BIG_SIZE);

    hash_sink_t h = {.md = EVP_MD_CTX_new()};
    EVP_DigestInit_ex(h.md, EVP_sha256(), NULL);
    size_t base_get = rss_now();
    h.peak_rss = base_get;
    rc = st_get(P.b, k, 0, 0, hash_sink, &h, &e);
    if (rc != PN_OK)
        fprintf(stderr, "[%s] big get: %s\n", P.name, e.msg);
    CU_ASSERT_EQUAL(rc, PN_OK);
    EVP_DigestFinal_ex(h.md, got, &gl);
    EVP_MD_CTX_free(h.md);
    CU_ASSERT_EQUAL(h.n, BIG_SIZE);
    CU_ASSERT(memcmp(want, got, 32) == 0);

    size_t put_growth = g.peak_rss > g.base_rss ? g.peak_rss - g.base_rss : 0;
    size_t get_growth = h.peak_rss > base_get ? h.peak_rss - base_get : 0;
    fprintf(stderr, "[%s] 50 MiB: resident growth put %zu KiB, get %zu KiB ", P.name,
            put_growth / 1024, get_growth / 1024);
    CU_ASSERT(put_growth < RSS_LIMIT);
    CU_ASSERT(get_growth < RSS_LIMIT);
    CU_ASSERT_EQUAL(st_remove(P.b, k, &e), PN_OK);
}

/* ---- atomic overwrite ---- */

typedef struct watch {
    char fill;
    size_t len, off;
    size_t check_at[2];
    int checks_ok, checks_done;
    const char *k;
    char old;
    size_t old_len;
    size_t fail_at; /* 0: never */
} watch_t;

typedef struct old_check {
    char old;
    size_t n;
    bool bad;
} old_check_t;

static int
old_sink(void *ud, const void *buf, size_t len)
{
    old_check_t *c = ud;
    const char *p = buf;
    for (size_t i = 0; i < len; i++)
        if (p[i] != c->old)
            c->bad = true;
    c->n += len;
    return PN_OK;
}

/* Delivers `fill` bytes; at the check points, reads the key through the second backend and
 * counts whether it still shows exactly the old object. */
static int
watch_source(void *ud, void *buf, size_t cap, size_t *got)
{
    watch_t *w = ud;
    for (int i = 0; i < 2; i++) {
        if (w->off >= w->check_at[i] && w->checks_done == i) {
            old_check_t c = {.old = w->old};
            st_err_t e = {0};
            int rc = st_get(P.reader, w->k, 0, 0, old_sink, &c, &e);
            w->checks_done++;
            if (rc == PN_OK && !c.bad && c.n == w->old_len)
                w->checks_ok++;
        }
    }
    if (w->fail_at && w->off >= w->fail_at)
        return PN_E_TOOLARGE;
    size_t n = w->len - w->off;
    if (n > cap)
        n = cap;
    if (n > PN_MIB(1))
        n = PN_MIB(1);
    memset(buf, w->fill, n);
    w->off += n;
    *got = n;
    return PN_OK;
}

static bool
all_bytes(const char *k, char c, size_t len)
{
    old_check_t chk = {.old = c};
    st_err_t e = {0};
    return st_get(P.b, k, 0, 0, old_sink, &chk, &e) == PN_OK && !chk.bad && chk.n == len;
}

static void
test_overwrite_atomic(void)
{
    /* Remote: more than one part, so the multipart path is the one tested. */
    size_t len = P.remote ? P.opts.part_size + P.opts.part_size / 2 : PN_MIB(3);
    const char *k = key("atomic/obj.bin");
    st_err_t e = {0};

    watch_t first = {.fill = 'a', .len = len, .check_at = {len + 1, len + 1}};
    CU_ASSERT_EQUAL_FATAL(st_put(P.b, k, watch_source, &first, len, NULL, &e), PN_OK);
    CU_ASSERT_TRUE(all_bytes(k, 'a', len));

    watch_t second = {.fill = 'b',
                      .len = len,
                      .check_at = {PN_MIB(1), len - PN_MIB(1)},
                      .k = k,
                      .old = 'a',
                      .old_len = len};
    CU_ASSERT_EQUAL(st_put(P.b, k, watch_source, &second, len, NULL, &e), PN_OK);
    CU_ASSERT_EQUAL(second.checks_done, 2);
    CU_ASSERT_EQUAL(second.checks_ok, 2); /* readers saw the whole old object mid-put */
    CU_ASSERT_TRUE(all_bytes(k, 'b', len));

    /* A source that fails after most of the bytes: the put fails with the source's code,
     * and the object is still the previous one. */
    watch_t third = {
        .fill = 'c', .len = len, .check_at = {len + 1, len + 1}, .fail_at = len - PN_MIB(1)};
    int rc = st_put(P.b, k, watch_source, &third, len, NULL, &e);
    CU_ASSERT_EQUAL(rc, PN_E_TOOLARGE);
    CU_ASSERT_TRUE(e.passthrough);
    CU_ASSERT_TRUE(all_bytes(k, 'b', len));

    if (!P.remote) {
        /* No temporary file is left next to the object. */
        char dir[400];
        snprintf(dir, sizeof dir, "%s/%s/atomic", P.root, P.run);
        DIR *d = opendir(dir);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
                continue;
            n++;
            CU_ASSERT_STRING_EQUAL(de->d_name, "obj.bin");
        }
        closedir(d);
        CU_ASSERT_EQUAL(n, 1);
    }
    CU_ASSERT_EQUAL(st_remove(P.b, k, &e), PN_OK);
}

/* ---- refused keys ---- */

static int
count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void
test_traversal_refused(void)
{
    char overlong[ST_KEY_MAX + 10], longcomp[300];
    memset(overlong, 'a', sizeof overlong - 1);
    overlong[sizeof overlong - 1] = '\0';
    memset(longcomp, 'b', sizeof longcomp - 1);
    longcomp[sizeof longcomp - 1] = '\0';
    const char *const keys[] = {"../outside/x",
                                "a/../../outside/x",
                                "..",
                                "..%2foutside%2fx",
                                "a/..%2f..%2foutside",
                                "%2e%2e/x",
                                "/etc/passwd",
                                "/tmp/x",
                                "a\\..\\..\\outside\\x",
                                "x\x01y",
                                "a//b",
                                "a/",
                                "",
                                ".",
                                "./x",
                                ".pn-tmp-0000000000000000",
                                overlong,
                                longcomp,
                                NULL};
    st_err_t e = {0};
    mem_sink_t m;
    char *url;
    int fd;
    uint64_t size;

    for (int i = 0; keys[i]; i++) {
        const char *k = keys[i];
        CU_ASSERT_EQUAL(put_bytes(P.b, k, "evil", 4, NULL), PN_E_INVALID);
        CU_ASSERT_EQUAL(get_bytes(P.b, k, 0, 0, &m), PN_E_INVALID);
        free(m.data);
        CU_ASSERT_EQUAL(st_stat(P.b, k, NULL, &e), PN_E_INVALID);
        CU_ASSERT_EQUAL(st_remove(P.b, k, &e), PN_E_INVALID);
        CU_ASSERT_EQUAL(st_presign(P.b, k, PN_GET, 60, &url, &e), PN_E_INVALID);
        CU_ASSERT_EQUAL(st_open_fd(P.b, k, &fd, &size, &e), PN_E_INVALID);
    }
    /* The same keys under the run's prefix (a "directory" then ".."). */
    char k2[64];
    snprintf(k2, sizeof k2, "%s/../../outside/x", P.run);
    CU_ASSERT_EQUAL(put_bytes(P.b, k2, "evil", 4, NULL), PN_E_INVALID);
    if (!P.remote) {
        CU_ASSERT_EQUAL(count_entries(P.outside), 0);
        CU_ASSERT_EQUAL(count_entries(P.tmp), 2); /* root/ and outside/ only */
    }
}

/* ---- planted symlinks (local) ---- */

static void
test_symlinks(void)
{
    char path[600], target[600];
    st_err_t e = {0};
    mem_sink_t m;
    int fd;
    uint64_t size;

    if (P.remote)
        return; /* object stores have no links */
    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, key("links/d/placeholder"), "x", 1, NULL), PN_OK);
    snprintf(target, sizeof target, "%s/secret.txt", P.outside);
    FILE *f = fopen(target, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("TOP SECRET", f);
    fclose(f);

    snprintf(path, sizeof path, "%s/%s/links/evil", P.root, P.run);
    CU_ASSERT_EQUAL_FATAL(symlink(P.outside, path), 0);
    snprintf(path, sizeof path, "%s/%s/links/link.txt", P.root, P.run);
    CU_ASSERT_EQUAL_FATAL(symlink(target, path), 0);
    snprintf(path, sizeof path, "%s/%s/links/d/up", P.root, P.run);
    CU_ASSERT_EQUAL_FATAL(symlink("../../../../outside", path), 0);
    snprintf(path, sizeof path, "%s/%s/links/fifo", P.root, P.run);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);

    const char *reads[] = {"links/link.txt",
                           "links/evil/secret.txt",
                           "links/d/up/secret.txt",
                           "links/fifo",
                           "links/evil",
                           NULL};
    for (int i = 0; reads[i]; i++) {
        const char *k = key(reads[i]);
        CU_ASSERT_EQUAL(get_bytes(P.b, k, 0, 0, &m), PN_E_NOTFOUND);
        free(m.data);
        CU_ASSERT_EQUAL(st_stat(P.b, k, NULL, &e), PN_E_NOTFOUND);
        CU_ASSERT_EQUAL(st_open_fd(P.b, k, &fd, &size, &e), PN_E_NOTFOUND);
        CU_ASSERT_EQUAL(fd, -1);
    }
    /* Writes through a linked directory fail and create nothing outside. */
    CU_ASSERT_NOT_EQUAL(put_bytes(P.b, key("links/evil/new.txt"), "evil", 4, NULL), PN_OK);
    CU_ASSERT_NOT_EQUAL(put_bytes(P.b, key("links/d/up/new.txt"), "evil", 4, NULL), PN_OK);
    CU_ASSERT_NOT_EQUAL(put_bytes(P.b, key("links/evil/sub/new.txt"), "evil", 4, NULL), PN_OK);
    /* Removing through a link touches nothing outside. */
    CU_ASSERT_EQUAL(st_remove(P.b, key("links/evil/secret.txt"), &e), PN_OK);
    CU_ASSERT_EQUAL(st_remove(P.b, key("links/d/up/secret.txt"), &e), PN_OK);
    /* Writing over a linked file replaces the link, not its target. */
    CU_ASSERT_EQUAL(put_bytes(P.b, key("links/link.txt"), "replaced", 8, NULL), PN_OK);
    CU_ASSERT_EQUAL(get_bytes(P.b, key("links/link.txt"), 0, 0, &m), PN_OK);
    CU_ASSERT(m.len == 8 && memcmp(m.data, "replaced", 8) == 0);
    free(m.data);

    f = fopen(target, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[32] = "";
    CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof buf, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "TOP SECRET");
    CU_ASSERT_EQUAL(count_entries(P.outside), 1);
}

/* ---- in-place staging (local) ---- */

static void
test_write_at_publish(void)
{
    char path[600], target[600];
    st_err_t e = {0};
    mem_sink_t m;
    char stage[1200], obj[1200];

    snprintf(stage, sizeof stage, "%s", key("stage/up/data"));
    snprintf(obj, sizeof obj, "%s", key("stage/final/obj"));

    if (P.remote) {
        CU_ASSERT_EQUAL(st_write_at(P.b, stage, 0, "x", 1, true, &e), PN_E_UNAVAILABLE);
        CU_ASSERT_EQUAL(st_publish(P.b, stage, obj, NULL, &e), PN_E_UNAVAILABLE);
        return;
    }
    /* Parts out of order land at their offsets; a rewrite of a part replaces it. */
    CU_ASSERT_EQUAL_FATAL(st_write_at(P.b, stage, 5, "world", 5, false, &e), PN_OK);
    CU_ASSERT_EQUAL_FATAL(st_write_at(P.b, stage, 0, "HELLO", 5, true, &e), PN_OK);
    CU_ASSERT_EQUAL_FATAL(st_write_at(P.b, stage, 0, "hello", 5, true, &e), PN_OK);
    CU_ASSERT_EQUAL(st_publish(P.b, stage, obj, "text/plain", &e), PN_OK);
    CU_ASSERT_EQUAL(get_bytes(P.b, obj, 0, 0, &m), PN_OK);
    CU_ASSERT(m.len == 10 && memcmp(m.data, "helloworld", 10) == 0);
    free(m.data);
    pn_storage_info_t info;
    CU_ASSERT_EQUAL(st_stat(P.b, obj, &info, &e), PN_OK);
    CU_ASSERT_STRING_EQUAL(info.content_type, "text/plain");
    /* The staging object stays until removed; publishing again replaces the object whole. */
    CU_ASSERT_EQUAL(st_write_at(P.b, stage, 10, "!", 1, true, &e), PN_OK);
    CU_ASSERT_EQUAL(st_publish(P.b, stage, obj, NULL, &e), PN_OK);
    CU_ASSERT_EQUAL(st_remove(P.b, stage, &e), PN_OK);
    CU_ASSERT_EQUAL(get_bytes(P.b, obj, 0, 0, &m), PN_OK);
    CU_ASSERT(m.len == 11 && memcmp(m.data, "helloworld!", 11) == 0);
    free(m.data);
    CU_ASSERT_EQUAL(st_publish(P.b, stage, obj, NULL, &e), PN_E_NOTFOUND);
    /* Traversal keys are refused; planted links are neither followed nor published. */
    CU_ASSERT_EQUAL(st_write_at(P.b, "../x", 0, "x", 1, true, &e), PN_E_INVALID);
    CU_ASSERT_EQUAL(st_publish(P.b, stage, "/etc/x", NULL, &e), PN_E_INVALID);
    snprintf(target, sizeof target, "%s/staged-secret", P.outside);
    FILE *f = fopen(target, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("SECRET", f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, key("stage/l/placeholder"), "x", 1, NULL), PN_OK);
    snprintf(path, sizeof path, "%s/%s/stage/l/link", P.root, P.run);
    CU_ASSERT_EQUAL_FATAL(symlink(target, path), 0);
    snprintf(path, sizeof path, "%s/%s/stage/l/dir", P.root, P.run);
    CU_ASSERT_EQUAL_FATAL(symlink(P.outside, path), 0);
    CU_ASSERT_NOT_EQUAL(st_write_at(P.b, key("stage/l/link"), 0, "evil", 4, true, &e), PN_OK);
    CU_ASSERT_NOT_EQUAL(st_write_at(P.b, key("stage/l/dir/new"), 0, "evil", 4, true, &e), PN_OK);
    CU_ASSERT_EQUAL(st_publish(P.b, key("stage/l/link"), key("stage/l/out"), NULL, &e),
                    PN_E_NOTFOUND);
    CU_ASSERT_EQUAL(get_bytes(P.b, key("stage/l/out"), 0, 0, &m), PN_E_NOTFOUND);
    free(m.data);
    f = fopen(target, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[32] = "";
    CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof buf, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "SECRET");
    CU_ASSERT_EQUAL(st_remove(P.b, obj, &e), PN_OK);
}

/* ---- file descriptors ---- */

static void
test_open_fd(void)
{
    const char *k = key("fd/obj.txt");
    st_err_t e = {0};
    int fd = -7;
    uint64_t size = 0;

    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, k, "zero-copy", 9, NULL), PN_OK);
    int rc = st_open_fd(P.b, k, &fd, &size, &e);
    if (P.remote) {
        CU_ASSERT_EQUAL(rc, PN_E_UNAVAILABLE);
        CU_ASSERT_EQUAL(fd, -1);
        return;
    }
    CU_ASSERT_EQUAL_FATAL(rc, PN_OK);
    CU_ASSERT_EQUAL(size, 9);
    char buf[16] = "";
    CU_ASSERT_EQUAL(pread(fd, buf, sizeof buf, 0), 9);
    CU_ASSERT(memcmp(buf, "zero-copy", 9) == 0);
    CU_ASSERT((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
    close(fd);
    CU_ASSERT_EQUAL(st_open_fd(P.b, key("fd/none"), &fd, &size, &e), PN_E_NOTFOUND);
}

/* ---- presigned URLs ---- */

static size_t
discard(char *p, size_t s, size_t n, void *ud)
{
    mem_sink_t *m = ud;
    if (m != NULL)
        mem_sink(m, p, s * n);
    return s * n;
}

typedef struct upload {
    const char *data;
    size_t len, off;
} upload_t;

static size_t
upload_read(char *buf, size_t s, size_t n, void *ud)
{
    upload_t *u = ud;
    size_t k = u->len - u->off < s * n ? u->len - u->off : s * n;
    memcpy(buf, u->data + u->off, k);
    u->off += k;
    return k;
}

/* A plain HTTP request to a presigned URL, as a browser would make it. */
static long
fetch(const char *method, const char *url, const char *body, mem_sink_t *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    upload_t u = {body, body ? strlen(body) : 0, 0};
    long status = 0;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (strcmp(method, "PUT") == 0) {
        h = curl_slist_append(h, "Expect:");
        if (strcmp(P.name, "azure") == 0)
            h = curl_slist_append(h, "x-ms-blob-type: BlockBlob");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &u);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return status;
}

/* One byte of the signature changed. */
static char *
tamper_signature(const char *url)
{
    char *t = strdup(url);
    char *p = strstr(t, P.name[0] == 'a' ? "sig=" : "Signature=");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    p = strchr(p, '=') + 1;
    *p = *p == 'a' ? 'b' : 'a';
    return t;
}

static void
test_presign(void)
{
    const char *k = key("presign/obj.txt");
    const char *text = "presigned content 123";
    st_err_t e = {0};
    mem_sink_t m;
    char *url = NULL;

    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, k, text, strlen(text), "text/plain"), PN_OK);
    int rc = st_presign(P.b, k, PN_GET, 60, &url, &e);
    if (!P.remote) {
        CU_ASSERT_EQUAL(rc, PN_E_UNAVAILABLE);
        CU_ASSERT_PTR_NULL(url);
        return;
    }
    CU_ASSERT_EQUAL_FATAL(rc, PN_OK);
    free(url);
    CU_ASSERT_EQUAL(st_presign(P.b, k, PN_DELETE, 60, &url, &e), PN_E_INVALID);
    CU_ASSERT_EQUAL(st_presign(P.b, k, PN_GET, 0, &url, &e), PN_E_INVALID);
    rc = st_presign(P.b, k, PN_GET, 60, &url, &e);
    CU_ASSERT_EQUAL_FATAL(rc, PN_OK);

    long st = fetch("GET", url, NULL, &m);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT(m.len == strlen(text) && memcmp(m.data, text, m.len) == 0);
    free(m.data);

    char *bad = tamper_signature(url);
    CU_ASSERT_EQUAL(fetch("GET", bad, NULL, NULL), 403);
    free(bad);
    /* One byte of the object's name changed. */
    bad = strdup(url);
    char *o = strstr(bad, "obj.txt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    o[2] = 'k';
    st = fetch("GET", bad, NULL, NULL);
    CU_ASSERT(st == 403 || st == 404);
    free(bad);
    free(url);

    /* PUT through a presigned URL, then a tampered one that must change nothing. */
    const char *k2 = key("presign/uploaded.txt");
    CU_ASSERT_EQUAL_FATAL(st_presign(P.b, k2, PN_PUT, 60, &url, &e), PN_OK);
    st = fetch("PUT", url, "uploaded through a URL", NULL);
    CU_ASSERT(st == 200 || st == 201);
    CU_ASSERT_EQUAL(get_bytes(P.b, k2, 0, 0, &m), PN_OK);
    CU_ASSERT(m.len == 22 && memcmp(m.data, "uploaded through a URL", 22) == 0);
    free(m.data);
    bad = tamper_signature(url);
    CU_ASSERT_EQUAL(fetch("PUT", bad, "overwritten by an attacker", NULL), 403);
    free(bad);
    free(url);
    CU_ASSERT_EQUAL(get_bytes(P.b, k2, 0, 0, &m), PN_OK);
    CU_ASSERT(m.len == 22);
    free(m.data);

    /* Expired. */
    CU_ASSERT_EQUAL_FATAL(st_presign(P.b, k, PN_GET, 1, &url, &e), PN_OK);
    struct timespec ts = {2, 600000000};
    nanosleep(&ts, NULL);
    CU_ASSERT_EQUAL(fetch("GET", url, NULL, NULL), 403);
    free(url);
}

/* ---- wrong credentials ---- */

static void
test_wrong_secret(void)
{
    st_err_t e = {0};
    st_backend_t *bad = NULL;
    mem_sink_t m;
    const char *k = key("creds/obj.txt");

    if (!P.remote) {
        /* Local's counterpart: a root that cannot be made. */
        char root[400];
        snprintf(root, sizeof root, "%s/file", P.outside);
        FILE *f = fopen(root, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fclose(f);
        strcat(root, "/sub");
        json_t *c = json_pack("{s:s}", "root", root);
        CU_ASSERT_EQUAL_FATAL(st_backend_new("local", c, NULL, &P.opts, &bad, &e), PN_OK);
        CU_ASSERT_EQUAL(st_health(bad, &e), PN_E_UNAVAILABLE);
        CU_ASSERT_NOT_EQUAL(put_bytes(bad, "x", "x", 1, NULL), PN_OK);
        st_backend_free(bad);
        json_decref(c);
        unlink(root);
        snprintf(root, sizeof root, "%s/file", P.outside);
        unlink(root);
        return;
    }
    CU_ASSERT_EQUAL_FATAL(put_bytes(P.b, k, "guarded", 7, NULL), PN_OK);
    json_t *creds = json_deep_copy(P.creds);
    const char *field = strcmp(P.name, "s3") == 0    ? "secret_access_key"
                        : strcmp(P.name, "gcs") == 0 ? "hmac_secret"
                                                     : "account_key";
    char *secret = strdup(json_string_value(json_object_get(creds, field)));
    secret[0] = secret[0] == 'A' ? 'B' : 'A'; /* one byte; still valid base64 for Azure */
    json_object_set_new(creds, field, json_string(secret));
    free(secret);
    CU_ASSERT_EQUAL_FATAL(st_backend_new(P.name, P.conf, creds, &P.opts, &bad, &e), PN_OK);

    CU_ASSERT_EQUAL(st_health(bad, &e), PN_E_UNAVAILABLE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "403"));
    CU_ASSERT_PTR_NULL(strstr(e.msg, json_string_value(json_object_get(creds, field))));
    CU_ASSERT_NOT_EQUAL(put_bytes(bad, k, "forged!", 7, NULL), PN_OK);
    CU_ASSERT_NOT_EQUAL(get_bytes(bad, k, 0, 0, &m), PN_OK);
    CU_ASSERT_EQUAL(m.len, 0);
    free(m.data);
    CU_ASSERT_NOT_EQUAL(st_stat(bad, k, NULL, &e), PN_OK);
    char *url;
    CU_ASSERT_EQUAL_FATAL(st_presign(bad, k, PN_GET, 60, &url, &e), PN_OK);
    CU_ASSERT_EQUAL(fetch("GET", url, NULL, NULL), 403);
    free(url);
    /* The object is untouched. */
    CU_ASSERT_EQUAL(get_bytes(P.b, k, 0, 0, &m), PN_OK);
    CU_ASSERT(m.len == 7 && memcmp(m.data, "guarded", 7) == 0);
    free(m.data);
    st_backend_free(bad);
    json_decref(creds);
}

static void
test_health(void)
{
    st_err_t e = {0};
    int rc = st_health(P.b, &e);
    if (rc != PN_OK)
        fprintf(stderr, "[%s] health: %s\n", P.name, e.msg);
    CU_ASSERT_EQUAL(rc, PN_OK);
}

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        CU_InitializeFunc init;
    } known[] = {{"local", init_local}, {"s3", init_s3}, {"gcs", init_gcs}, {"azure", init_azure}};

    if (argc < 2) {
        fprintf(stderr, "usage: %s local|s3|gcs|azure...\n", argv[0]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    for (int i = 1; i < argc; i++) {
        size_t j = 0;
        while (j < sizeof known / sizeof known[0] && strcmp(known[j].name, argv[i]) != 0)
            j++;
        if (j == sizeof known / sizeof known[0]) {
            fprintf(stderr, "unknown provider %s\n", argv[i]);
            return 2;
        }
        char sname[64];
        snprintf(sname, sizeof sname, "provider %s", argv[i]);
        CU_pSuite s = CU_add_suite(sname, known[j].init, suite_clean);
        CU_add_test(s, "health", test_health);
        CU_add_test(s, "put get stat remove", test_put_get_stat_remove);
        CU_add_test(s, "names needing encoding", test_odd_names);
        CU_add_test(s, "byte ranges", test_ranges);
        CU_add_test(s, "50 MiB streamed in bounded memory", test_stream_50mib);
        CU_add_test(s, "overwrite is atomic", test_overwrite_atomic);
        CU_add_test(s, "traversal keys refused", test_traversal_refused);
        CU_add_test(s, "planted symlinks not followed", test_symlinks);
        CU_add_test(s, "in-place staging and publish", test_write_at_publish);
        CU_add_test(s, "file descriptors", test_open_fd);
        CU_add_test(s, "presigned URLs", test_presign);
        CU_add_test(s, "wrong credentials refused", test_wrong_secret);
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
                      CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    curl_global_cleanup();
    return failed ? 1 : 0;
}
