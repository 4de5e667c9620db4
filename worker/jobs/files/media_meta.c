/* The metadata document of one file: size, MIME type sniffed from its bytes, SHA-256 (the
 * upload's when the caller has it, else computed), then image + EXIF, PDF or audio/video facts;
 * cleaned to valid UTF-8 and bounded in size. From the first bytes alone when they suffice. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media.h"

/* Size and the first bytes; the SHA-256 too unless the caller knows it (hex NULL). */
static int
read_file(const char *path, uint64_t *size, char *hex, uint8_t *head, size_t *headn)
{
    struct stat st;
    int fd = fm_open_regular(path, &st);
    if (fd < 0)
        return -1;
    size_t cap = *headn;
    *headn = 0, *size = 0;
    if (!hex) { /* the header is all that is read */
        ssize_t r = pread(fd, head, cap, 0);
        close(fd);
        if (r < 0)
            return -1;
        *headn = (size_t)r, *size = (uint64_t)st.st_size;
        return 0;
    }
    fm_sha256_t *md = fm_sha256_new();
    uint8_t *buf = malloc(1 << 16);
    ssize_t r = -1;
    if (md && buf)
        while ((r = read(fd, buf, 1 << 16)) > 0) {
            if (*headn < cap) {
                size_t k = (size_t)r < cap - *headn ? (size_t)r : cap - *headn;
                memcpy(head + *headn, buf, k);
                *headn += k;
            }
            if (fm_sha256_update(md, buf, (size_t)r) != 0) {
                r = -1;
                break;
            }
            *size += (uint64_t)r;
        }
    if (r == 0 && fm_sha256_hex(md, hex) != 0)
        r = -1;
    fm_sha256_free(md);
    free(buf);
    close(fd);
    return r == 0 ? 0 : -1;
}

/* 64 lowercase hex digits, as the server stores checksum_sha256. */
static bool
sha256_hex(const char *s)
{
    if (!s || strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* PDF facts from the mapped file (pages are read, never copied, so memory stays small). */
static int
pdf_meta(const char *path, const fm_limits_t *l, json_t *pdf, char *err, size_t errlen)
{
    struct stat st;
    int fd = fm_open_regular(path, &st);
    if (fd >= 0 && st.st_size == 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        (void)snprintf(err, errlen, "cannot read the file");
        return -1;
    }
    if ((uint64_t)st.st_size > l->max_pdf_bytes) {
        close(fd);
        (void)snprintf(err, errlen, "PDF too large for properties: %lld bytes, the limit is %llu",
                       (long long)st.st_size, (unsigned long long)l->max_pdf_bytes);
        return -1;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        (void)snprintf(err, errlen, "cannot map the file");
        return -1;
    }
    int rc = fm_pdf_meta(m, (size_t)st.st_size, pdf, err, errlen);
    munmap(m, (size_t)st.st_size);
    return rc;
}

static void
note(json_t *doc, const char *part, const char *msg)
{
    json_t *e = json_object_get(doc, "errors");
    if (!e)
        json_object_set_new(doc, "errors", e = json_object());
    json_object_set_new(e, part, json_string(msg));
}

/* A reader's image facts and EXIF into doc, or its reason under errors.image. Takes img. */
static void
put_image(json_t *doc, bool ok, json_t *img, const void *exif, size_t exif_len, const char *why)
{
    if (!ok) {
        json_decref(img);
        note(doc, "image", why);
        return;
    }
    json_object_set_new(doc, "image", img);
    json_t *ex = exif ? fm_exif_parse(exif, exif_len) : NULL;
    if (ex)
        json_object_set_new(doc, "exif", ex);
}

/* The members every document has. */
static json_t *
doc_new(uint64_t size, const char *mime, const char *sha256)
{
    return json_pack("{s:I, s:s, s:s}", "size", (json_int_t)size, "mime_type", mime, "sha256",
                     sha256);
}

/* Strings cleaned and the whole bounded; consumes doc. */
static int
doc_finish(json_t *doc, const fm_limits_t *l, json_t **out, char *err, size_t errlen)
{
    fm_json_clean(doc, 4096);
    if (fm_json_bound(doc, l->max_meta_bytes) != 0) {
        json_decref(doc);
        (void)snprintf(err, errlen, "metadata larger than %zu bytes", l->max_meta_bytes);
        return -1;
    }
    *out = doc;
    return 0;
}

int
fm_metadata_head(const uint8_t *p, size_t n, uint64_t size, const char *sha256,
                 const fm_limits_t *l, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!sha256_hex(sha256))
        return 0; /* the hash needs every byte */
    size_t want = size < FM_META_HEAD_BYTES ? (size_t)size : FM_META_HEAD_BYTES;
    if (n != want)
        return 0; /* not the head of a file of that size (a new version?): read it all */
    const char *mime = fm_sniff(p, want < 64 ? want : 64);
    int rc = 1;
    json_t *doc = NULL;
    if (fm_mime_is_image(mime)) {
        json_t *img = json_object();
        const uint8_t *exif = NULL;
        size_t exif_len = 0;
        char why[FM_ERRLEN];
        int hr = fm_header_image(p, want, size, l, img, &exif, &exif_len, why, sizeof why);
        if (hr == 0) {
            json_decref(img);
            rc = 0; /* a format or layout the header reader leaves to libvips */
        } else {
            doc = doc_new(size, mime, sha256);
            put_image(doc, hr > 0, img, exif, exif_len, why);
        }
    } else if (!strcmp(mime, "application/pdf") || fm_mime_is_av(mime)) {
        rc = 0; /* page tree and streams may be anywhere in the file */
    } else {
        doc = doc_new(size, mime, sha256); /* nothing to read beyond the type */
    }
    if (rc == 0)
        return 0;
    return doc_finish(doc, l, out, err, errlen) == 0 ? 1 : -1;
}

int
fm_metadata_file(const char *path, const char *sha256, const fm_limits_t *l, json_t **out,
                 char *err, size_t errlen)
{
    uint64_t size;
    char hex[65];
    uint8_t head[64];
    size_t headn = sizeof head;
    *out = NULL;
    bool known = sha256_hex(sha256);
    if (read_file(path, &size, known ? NULL : hex, head, &headn) != 0) {
        (void)snprintf(err, errlen, "cannot read the file");
        return -1;
    }
    const char *mime = fm_sniff(head, headn);
    json_t *doc = doc_new(size, mime, known ? sha256 : hex);
    char why[FM_ERRLEN];
    if (fm_mime_is_image(mime)) {
        json_t *img = json_object();
        void *exif = NULL;
        size_t exif_len = 0;
        int rc = fm_image_meta_file(path, l, img, &exif, &exif_len, why, sizeof why);
        if (rc == FM_EBACKEND) {
            json_decref(img);
            json_decref(doc);
            (void)snprintf(err, errlen, "%s", why);
            return rc;
        }
        put_image(doc, rc == 0, img, exif, exif_len, why);
        free(exif);
    } else if (!strcmp(mime, "application/pdf")) {
        json_t *pdf = json_object();
        if (pdf_meta(path, l, pdf, why, sizeof why) == 0)
            json_object_set_new(doc, "pdf", pdf);
        else {
            json_decref(pdf);
            note(doc, "pdf", why);
        }
    } else if (fm_mime_is_av(mime)) {
        json_t *av = json_object();
        int rc = fm_av_probe_file(path, l, av, NULL, why, sizeof why);
        if (rc == FM_EBACKEND) {
            json_decref(av);
            json_decref(doc);
            (void)snprintf(err, errlen, "%s", why);
            return rc;
        }
        if (rc == 0)
            json_object_set_new(doc, "media", av);
        else {
            json_decref(av);
            note(doc, "media", why);
        }
    }
    return doc_finish(doc, l, out, err, errlen);
}
