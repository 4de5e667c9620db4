/*
 * Unit tests of the files plugin's pure parts: the multipart parser (whole, byte by byte and
 * at every split point, plus the refusals), filename cleaning, sniffing, Range, ETags,
 * Content-Disposition, tus metadata, base64 and URL signatures.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files_crypto.h"
#include "files_http.h"
#include "files_multipart.h"
#include "files_names.h"
#include "files_sniff.h"

/* ---- multipart ---- */

typedef struct {
    char log[8192];
    size_t n;
} rec_t;

static void
put(rec_t *r, const char *s, size_t n)
{
    if (r->n + n < sizeof r->log) {
        memcpy(r->log + r->n, s, n);
        r->n += n;
        r->log[r->n] = '\0';
    }
}

static int
r_part(void *ud, const files_mp_part_t *p)
{
    rec_t *r = ud;
    char buf[600];
    int n = snprintf(buf, sizeof buf, "[%s|%s|%s:", p->name, p->filename ? p->filename : "-",
                     p->content_type ? p->content_type : "-");
    put(r, buf, (size_t)n);
    return 0;
}

static int
r_data(void *ud, const char *d, size_t n)
{
    put(ud, d, n);
    return 0;
}

static int
r_end(void *ud)
{
    put(ud, "]", 1);
    return 0;
}

static const files_mp_callbacks_t rcb = {r_part, r_data, r_end};

/* Parse body split at `split` (0 = whole); -1 on failure. */
static int
parse(const char *boundary, const char *body, size_t len, size_t step, rec_t *r)
{
    memset(r, 0, sizeof *r);
    files_mp_t *p = files_mp_new(boundary, &rcb, r);
    int rc = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    if (step == 0)
        step = len ? len : 1;
    for (size_t i = 0; i < len && rc == 0; i += step)
        rc = files_mp_feed(p, body + i, len - i < step ? len - i : step);
    if (rc == 0)
        rc = files_mp_finish(p);
    files_mp_free(p);
    return rc;
}

static const char form[] = "--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"title\"\r\n"
                           "\r\n"
                           "hello\r\n"
                           "--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n"
                           "Content-Type: text/plain\r\n"
                           "\r\n"
                           "line1\r\n--XyY\r\n\r--X\rline2\r\n"
                           "--XyZ--\r\n";

static void
test_mp_basic(void)
{
    rec_t whole, piece;
    const char *want = "[title|-|-:hello][file|a b.txt|text/plain:line1\r\n--XyY\r\n\r--X\rline2]";

    CU_ASSERT_EQUAL(parse("XyZ", form, strlen(form), 0, &whole), 0);
    CU_ASSERT_STRING_EQUAL(whole.log, want);
    for (size_t step = 1; step <= 17; step++) {
        CU_ASSERT_EQUAL(parse("XyZ", form, strlen(form), step, &piece), 0);
        CU_ASSERT_STRING_EQUAL(piece.log, want);
    }
}

static void
test_mp_every_split(void)
{
    size_t len = strlen(form);
    rec_t whole, r;

    parse("XyZ", form, len, 0, &whole);
    for (size_t cut = 1; cut < len; cut++) {
        memset(&r, 0, sizeof r);
        files_mp_t *p = files_mp_new("XyZ", &rcb, &r);
        CU_ASSERT_EQUAL(files_mp_feed(p, form, cut), 0);
        CU_ASSERT_EQUAL(files_mp_feed(p, form + cut, len - cut), 0);
        CU_ASSERT_EQUAL(files_mp_finish(p), 0);
        CU_ASSERT_STRING_EQUAL(r.log, whole.log);
        files_mp_free(p);
    }
}

static void
test_mp_refusals(void)
{
    static const char *const bad[] = {
        "preamble\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--",
        "--B\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; "
        "name=\"b\"\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
        "--B junk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\"; filename*=latin1''x\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\"; "
        "filename*=UTF-8''a%00b\r\n\r\nx\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--junk",
        "",
    };
    rec_t r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse("B", bad[i], strlen(bad[i]), 0, &r);
        if (rc == 0)
            fprintf(stderr, "accepted bad body %zu\n", i);
        CU_ASSERT_EQUAL(rc, -1);
    }
}

static void
test_mp_filename_star_and_limits(void)
{
    const char *b = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.txt\"; "
                    "filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n\r\nz\r\n--B--";
    rec_t r;
    char big[FILES_MP_MAX_HEAD * 2];

    CU_ASSERT_EQUAL(parse("B", b, strlen(b), 0, &r), 0);
    CU_ASSERT_STRING_EQUAL(r.log, "[file|\xc3\xa9t\xc3\xa9.txt|-:z]");
    /* headers over the limit */
    int n = snprintf(big, sizeof big, "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nX: ");
    memset(big + n, 'a', FILES_MP_MAX_HEAD);
    memcpy(big + n + FILES_MP_MAX_HEAD, "\r\n\r\nx\r\n--B--", 13);
    CU_ASSERT_EQUAL(parse("B", big, strlen(big), 0, &r), -1);
    /* too many parts */
    char *many = malloc(100000);
    size_t o = 0;
    for (int i = 0; i <= FILES_MP_MAX_PARTS; i++)
        o += (size_t)sprintf(many + o,
                             "--B\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nv\r\n", i);
    o += (size_t)sprintf(many + o, "--B--");
    CU_ASSERT_EQUAL(parse("B", many, o, 0, &r), -1);
    free(many);
}

static void
test_mp_boundary(void)
{
    char b[FILES_MP_MAX_BOUNDARY + 1];

    CU_ASSERT_EQUAL(files_mp_boundary("multipart/form-data; boundary=abc", b), 0);
    CU_ASSERT_STRING_EQUAL(b, "abc");
    CU_ASSERT_EQUAL(files_mp_boundary("Multipart/Form-Data;boundary=\"a b:c\"", b), 0);
    CU_ASSERT_STRING_EQUAL(b, "a b:c");
    CU_ASSERT_EQUAL(files_mp_boundary("multipart/form-data; charset=x; boundary=q1", b), 0);
    CU_ASSERT_EQUAL(files_mp_boundary("multipart/mixed; boundary=abc", b), -1);
    CU_ASSERT_EQUAL(files_mp_boundary("multipart/form-data", b), -1);
    CU_ASSERT_EQUAL(files_mp_boundary("multipart/form-data; boundary=", b), -1);
    CU_ASSERT_EQUAL(files_mp_boundary("multipart/form-data; boundary=\"ab \"", b), -1);
    CU_ASSERT_EQUAL(files_mp_boundary("multipart/form-data; boundary=a; boundary=b", b), -1);
    CU_ASSERT_EQUAL(
        files_mp_boundary("multipart/form-data; boundary="
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                          b),
        -1);
}

/* ---- names ---- */

static void
check_clean(const char *in, const char *want)
{
    char out[FILES_NAME_MAX + 1];
    files_clean_filename(in, strlen(in), out);
    if (strcmp(out, want) != 0)
        fprintf(stderr, "clean(%s) = %s, want %s\n", in, out, want);
    CU_ASSERT_STRING_EQUAL(out, want);
}

static void
test_clean_filename(void)
{
    char out[FILES_NAME_MAX + 1], long_in[600];

    check_clean("report.pdf", "report.pdf");
    check_clean("../../etc/passwd", "passwd");
    check_clean("..\\..\\windows\\win.ini", "win.ini");
    check_clean("/abs/path/x.txt", "x.txt");
    check_clean("..", "file");
    check_clean(".", "file");
    check_clean("", "file");
    check_clean(".hidden", "hidden");
    check_clean("a\x01"
                "b\x7f"
                "c",
                "a_b_c");
    check_clean("evil\xe2\x80\xaetxt.exe", "evil_txt.exe");
    check_clean("bad\xc0\xafutf8", "bad__utf8");
    check_clean("x<y>:z|?*\".txt", "x_y__z____.txt");
    check_clean("caf\xc3\xa9.txt", "caf\xc3\xa9.txt");
    check_clean("trail. . ", "trail");
    files_clean_filename("a\0b", 3, out);
    CU_ASSERT_STRING_EQUAL(out, "a_b");
    memset(long_in, 'x', sizeof long_in);
    long_in[0] = '\xc3';
    long_in[1] = '\xa9';
    for (int i = 250; i < 600; i += 2) {
        long_in[i] = '\xc3';
        long_in[i + 1] = '\xa9';
    }
    files_clean_filename(long_in, sizeof long_in, out);
    CU_ASSERT(strlen(out) <= FILES_NAME_MAX);
    CU_ASSERT(files_utf8_ok(out, strlen(out)));
}

static void
test_names_misc(void)
{
    char t[101];

    CU_ASSERT(files_is_uuid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
    CU_ASSERT(!files_is_uuid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5"));
    CU_ASSERT(!files_is_uuid("../../../../etc/passwd/aaaaaaaaaaaaaa"));
    CU_ASSERT(!files_is_uuid(NULL));
    CU_ASSERT_EQUAL(files_tag_name("  Hello World ", t), 0);
    CU_ASSERT_STRING_EQUAL(t, "hello world");
    CU_ASSERT_EQUAL(files_tag_name("a,b", t), -1);
    CU_ASSERT_EQUAL(files_tag_name("   ", t), -1);
    CU_ASSERT_STRING_EQUAL(files_type_of("image/png"), "image");
    CU_ASSERT_STRING_EQUAL(files_type_of("video/mp4"), "video");
    CU_ASSERT_STRING_EQUAL(files_type_of("application/zip"), "archive");
    CU_ASSERT_STRING_EQUAL(files_type_of("text/plain; charset=utf-8"), "document");
    CU_ASSERT_STRING_EQUAL(files_type_of("application/octet-stream"), "other");
    CU_ASSERT(files_is_active_type("text/html; charset=utf-8"));
    CU_ASSERT(files_is_active_type("image/svg+xml"));
    CU_ASSERT(files_is_active_type("application/xml"));
    CU_ASSERT(files_is_active_type("application/rss+xml"));
    CU_ASSERT(files_is_active_type("text/javascript"));
    CU_ASSERT(!files_is_active_type("image/png"));
    CU_ASSERT(!files_is_active_type("text/plain; charset=utf-8"));
}

/* ---- sniffing ---- */

static const char *
sniff(const char *s, size_t n)
{
    return files_sniff((const unsigned char *)s, n, 1);
}

static void
test_sniff(void)
{
    CU_ASSERT_STRING_EQUAL(sniff("\x89PNG\r\n\x1a\n....", 12), "image/png");
    CU_ASSERT_STRING_EQUAL(sniff("\xff\xd8\xff\xe0", 4), "image/jpeg");
    CU_ASSERT_STRING_EQUAL(sniff("GIF89a..", 8), "image/gif");
    CU_ASSERT_STRING_EQUAL(sniff("%PDF-1.7", 8), "application/pdf");
    CU_ASSERT_STRING_EQUAL(sniff("PK\3\4xxxx", 8), "application/zip");
    CU_ASSERT_STRING_EQUAL(sniff("\0\0\0\x18"
                                 "ftypmp42",
                                 12),
                           "video/mp4");
    CU_ASSERT_STRING_EQUAL(sniff("ID3\3\0", 5), "audio/mpeg");
    CU_ASSERT_STRING_EQUAL(sniff("  <!DOCTYPE html><p>", 20), "text/html; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(sniff("\xef\xbb\xbf<html>", 9), "text/html; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(sniff("<ScRiPt>alert(1)</script>", 25), "text/html; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(sniff("<svg xmlns=\"x\"/>", 16), "image/svg+xml");
    CU_ASSERT_STRING_EQUAL(sniff("<?xml version=\"1.0\"?><svg/>", 27), "image/svg+xml");
    CU_ASSERT_STRING_EQUAL(sniff("<?xml version=\"1.0\"?><a/>", 25), "application/xml");
    CU_ASSERT_STRING_EQUAL(sniff("hello world\n", 12), "text/plain; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(sniff("caf\xc3\xa9", 5), "text/plain; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(sniff("bin\0ary", 7), "application/octet-stream");
    CU_ASSERT_STRING_EQUAL(sniff("", 0), "application/octet-stream");
    CU_ASSERT_STRING_EQUAL(sniff("MZ\x90\0", 4), "application/vnd.microsoft.portable-executable");
    /* a UTF-8 sequence cut by the window is still text when more follows */
    CU_ASSERT_STRING_EQUAL(files_sniff((const unsigned char *)"ab\xc3", 3, 0),
                           "text/plain; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(files_sniff((const unsigned char *)"ab\xc3", 3, 1),
                           "application/octet-stream");
}

/* ---- HTTP ---- */

static void
test_range(void)
{
    uint64_t off, len;

    CU_ASSERT_EQUAL(files_range_parse(NULL, 100, &off, &len), FILES_RANGE_NONE);
    CU_ASSERT_EQUAL(files_range_parse("bytes=0-9", 100, &off, &len), FILES_RANGE_OK);
    CU_ASSERT(off == 0 && len == 10);
    CU_ASSERT_EQUAL(files_range_parse("bytes=90-", 100, &off, &len), FILES_RANGE_OK);
    CU_ASSERT(off == 90 && len == 10);
    CU_ASSERT_EQUAL(files_range_parse("bytes=-5", 100, &off, &len), FILES_RANGE_OK);
    CU_ASSERT(off == 95 && len == 5);
    CU_ASSERT_EQUAL(files_range_parse("bytes=-500", 100, &off, &len), FILES_RANGE_OK);
    CU_ASSERT(off == 0 && len == 100);
    CU_ASSERT_EQUAL(files_range_parse("bytes=50-1000", 100, &off, &len), FILES_RANGE_OK);
    CU_ASSERT(off == 50 && len == 50);
    CU_ASSERT_EQUAL(files_range_parse("bytes=100-", 100, &off, &len), FILES_RANGE_UNSAT);
    CU_ASSERT_EQUAL(files_range_parse("bytes=-0", 100, &off, &len), FILES_RANGE_UNSAT);
    CU_ASSERT_EQUAL(files_range_parse("bytes=0-", 0, &off, &len), FILES_RANGE_UNSAT);
    CU_ASSERT_EQUAL(files_range_parse("bytes=9-1", 100, &off, &len), FILES_RANGE_NONE);
    CU_ASSERT_EQUAL(files_range_parse("bytes=0-1,5-6", 100, &off, &len), FILES_RANGE_NONE);
    CU_ASSERT_EQUAL(files_range_parse("items=0-1", 100, &off, &len), FILES_RANGE_NONE);
    CU_ASSERT_EQUAL(files_range_parse("bytes=a-b", 100, &off, &len), FILES_RANGE_NONE);
    CU_ASSERT_EQUAL(files_range_parse("bytes=99999999999999999999-", 100, &off, &len),
                    FILES_RANGE_NONE);
}

static void
test_etag_disposition(void)
{
    char cd[512];

    CU_ASSERT(files_etag_match("\"abc\"", "\"abc\""));
    CU_ASSERT(files_etag_match("W/\"abc\"", "\"abc\""));
    CU_ASSERT(files_etag_match("\"x\", \"abc\"", "\"abc\""));
    CU_ASSERT(files_etag_match("*", "\"abc\""));
    CU_ASSERT(!files_etag_match("\"abcd\"", "\"abc\""));
    CU_ASSERT(!files_etag_match(NULL, "\"abc\""));
    files_disposition("attachment", "r\xc3\xa9sum\xc3\xa9 \"x\".txt", cd, sizeof cd);
    CU_ASSERT_STRING_EQUAL(cd, "attachment; filename=\"r__sum__ _x_.txt\"; "
                               "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22.txt");
    files_disposition("inline", "a;b\\c%d.txt", cd, sizeof cd);
    CU_ASSERT_STRING_EQUAL(cd,
                           "inline; filename=\"a;b_c_d.txt\"; filename*=UTF-8''a%3Bb%5Cc%25d.txt");
}

typedef struct {
    char got[512];
} meta_rec_t;

static int
on_meta(void *ud, const char *k, const char *v, size_t vl)
{
    meta_rec_t *m = ud;
    size_t n = strlen(m->got);
    snprintf(m->got + n, sizeof m->got - n, "%s=%.*s;", k, (int)vl, v);
    return 0;
}

static void
test_tus_metadata_b64(void)
{
    meta_rec_t m = {{0}};
    unsigned char out[16];

    CU_ASSERT_EQUAL(
        files_tus_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential", on_meta,
                           &m),
        0);
    CU_ASSERT_STRING_EQUAL(m.got, "filename=world_domination_plan.pdf;is_confidential=;");
    CU_ASSERT_EQUAL(files_tus_metadata("a Zm9v,a YmFy", on_meta, &m), -1);
    CU_ASSERT_EQUAL(files_tus_metadata("a Zm9v!", on_meta, &m), -1);
    CU_ASSERT_EQUAL(files_b64_decode("Zm9v", 4, out), 3);
    CU_ASSERT_EQUAL(files_b64_decode("Zm8=", 4, out), 2);
    CU_ASSERT_EQUAL(files_b64_decode("Zm9=", 4, out), -1); /* non-canonical bits */
    CU_ASSERT_EQUAL(files_b64_decode("Zm=v", 4, out), -1);
    CU_ASSERT_EQUAL(files_b64_decode("Zm9", 3, out), -1);
}

static void
test_crypto(void)
{
    char a[65], b[65], t1[44], t2[44];
    const unsigned char key[] = "0123456789abcdef0123456789abcdef";

    files_url_sign(key, 32, "GET", "f", "v", 100, "attachment", a);
    files_url_sign(key, 32, "GET", "f", "v", 100, "attachment", b);
    CU_ASSERT_STRING_EQUAL(a, b);
    files_url_sign(key, 32, "PUT", "f", "v", 100, "attachment", b);
    CU_ASSERT(!files_ct_equal(a, b));
    files_url_sign(key, 32, "GET", "f", "v", 101, "attachment", b);
    CU_ASSERT(!files_ct_equal(a, b));
    files_url_sign(key, 32, "GET", "g", "v", 100, "attachment", b);
    CU_ASSERT(!files_ct_equal(a, b));
    CU_ASSERT_EQUAL(files_random_token(t1), 0);
    CU_ASSERT_EQUAL(files_random_token(t2), 0);
    CU_ASSERT_EQUAL(strlen(t1), 43);
    CU_ASSERT_STRING_NOT_EQUAL(t1, t2);
    files_sha256_hex("abc", 3, a);
    CU_ASSERT_STRING_EQUAL(a, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    files_sha256_t *h = files_sha256_new();
    files_sha256_update(h, "a", 1);
    files_sha256_update(h, "bc", 2);
    files_sha256_final(h, b);
    CU_ASSERT_STRING_EQUAL(a, b);
}

int
main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("files", NULL, NULL);
    CU_add_test(s, "multipart basic and split feeds", test_mp_basic);
    CU_add_test(s, "multipart every split point", test_mp_every_split);
    CU_add_test(s, "multipart refusals", test_mp_refusals);
    CU_add_test(s, "multipart filename* and limits", test_mp_filename_star_and_limits);
    CU_add_test(s, "multipart boundary", test_mp_boundary);
    CU_add_test(s, "clean filename", test_clean_filename);
    CU_add_test(s, "uuid, tags, types", test_names_misc);
    CU_add_test(s, "sniff", test_sniff);
    CU_add_test(s, "range", test_range);
    CU_add_test(s, "etag and disposition", test_etag_disposition);
    CU_add_test(s, "tus metadata and base64", test_tus_metadata_b64);
    CU_add_test(s, "crypto", test_crypto);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
