/* The metadata document of one file: size, MIME type sniffed from its bytes, SHA-256, then
 * image + EXIF or audio/video facts; cleaned to valid UTF-8 and bounded in size. */
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media.h"

static bool
at(const uint8_t *p, size_t n, size_t off, const char *magic, size_t m)
{
    return n >= off + m && memcmp(p + off, magic, m) == 0;
}

const char *
fm_sniff(const uint8_t *p, size_t n)
{
    if (at(p, n, 0, "\xff\xd8\xff", 3))
        return "image/jpeg";
    if (at(p, n, 0, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    if (at(p, n, 0, "GIF87a", 6) || at(p, n, 0, "GIF89a", 6))
        return "image/gif";
    if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WEBP", 4))
        return "image/webp";
    if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WAVE", 4))
        return "audio/wav";
    if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "AVI ", 4))
        return "video/x-msvideo";
    if (at(p, n, 0, "II*\0", 4) || at(p, n, 0, "MM\0*", 4))
        return "image/tiff";
    if (at(p, n, 0, "BM", 2) && n >= 26)
        return "image/bmp";
    if (at(p, n, 0, "%PDF-", 5))
        return "application/pdf";
    if (at(p, n, 0, "%!PS", 4))
        return "application/postscript";
    if (at(p, n, 4, "ftyp", 4)) {
        if (at(p, n, 8, "heic", 4) || at(p, n, 8, "heix", 4) || at(p, n, 8, "mif1", 4) ||
            at(p, n, 8, "msf1", 4) || at(p, n, 8, "hevc", 4))
            return "image/heic";
        if (at(p, n, 8, "avif", 4) || at(p, n, 8, "avis", 4))
            return "image/avif";
        if (at(p, n, 8, "M4A ", 4))
            return "audio/mp4";
        if (at(p, n, 8, "qt  ", 4))
            return "video/quicktime";
        return "video/mp4";
    }
    if (at(p, n, 0, "\x1a\x45\xdf\xa3", 4))
        return memmem(p, n, "webm", 4) ? "video/webm" : "video/x-matroska";
    if (at(p, n, 0, "FLV", 3))
        return "video/x-flv";
    if (at(p, n, 0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8))
        return "video/x-ms-asf";
    if (at(p, n, 0, "fLaC", 4))
        return "audio/flac";
    if (at(p, n, 0, "OggS", 4))
        return "audio/ogg";
    if (at(p, n, 0, "ID3", 3) || (n >= 2 && p[0] == 0xff && (p[1] & 0xe6) == 0xe2))
        return "audio/mpeg";
    if (n >= 2 && p[0] == 0xff && (p[1] & 0xf6) == 0xf0)
        return "audio/aac";
    if (at(p, n, 0, "PK\x03\x04", 4))
        return "application/zip";
    if (at(p, n, 0, "#EXTM3U", 7))
        return "application/vnd.apple.mpegurl";
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (at(p, n, i, "<svg", 4) || (at(p, n, i, "<?xml", 5) && memmem(p, n, "<svg", 4)))
        return "image/svg+xml";
    if (at(p, n, i, "<?xml", 5))
        return "application/xml";
    if (fm_is_text(p, n))
        return "text/plain";
    return "application/octet-stream";
}

bool
fm_mime_is_image(const char *m)
{
    return !strncmp(m, "image/", 6) && strcmp(m, "image/svg+xml") != 0;
}

bool
fm_mime_is_av(const char *m)
{
    return !strncmp(m, "video/", 6) || !strncmp(m, "audio/", 6);
}

/* Size, SHA-256 and the first bytes, in one read of the file. */
static int
hash_file(const char *path, uint64_t *size, char hex[65], uint8_t *head, size_t *headn)
{
    struct stat st;
    int fd = fm_open_regular(path, &st);
    if (fd < 0)
        return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    uint8_t *buf = malloc(1 << 16);
    size_t cap = *headn;
    *headn = 0, *size = 0;
    ssize_t r = -1;
    while (buf && (r = read(fd, buf, 1 << 16)) > 0) {
        if (*headn < cap) {
            size_t k = (size_t)r < cap - *headn ? (size_t)r : cap - *headn;
            memcpy(head + *headn, buf, k);
            *headn += k;
        }
        EVP_DigestUpdate(md, buf, (size_t)r);
        *size += (uint64_t)r;
    }
    unsigned char d[32];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    free(buf);
    close(fd);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return r < 0 ? -1 : 0;
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
        snprintf(err, errlen, "cannot read the file");
        return -1;
    }
    if ((uint64_t)st.st_size > l->max_pdf_bytes) {
        close(fd);
        snprintf(err, errlen, "PDF too large for properties: %lld bytes, the limit is %llu",
                 (long long)st.st_size, (unsigned long long)l->max_pdf_bytes);
        return -1;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "cannot map the file");
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

int
fm_metadata_file(const char *path, const fm_limits_t *l, json_t **out, char *err, size_t errlen)
{
    uint64_t size;
    char hex[65];
    uint8_t head[64];
    size_t headn = sizeof head;
    *out = NULL;
    if (hash_file(path, &size, hex, head, &headn) != 0) {
        snprintf(err, errlen, "cannot read the file");
        return -1;
    }
    json_t *doc = json_object();
    const char *mime = fm_sniff(head, headn);
    json_object_set_new(doc, "size", json_integer((json_int_t)size));
    json_object_set_new(doc, "mime_type", json_string(mime));
    json_object_set_new(doc, "sha256", json_string(hex));
    char why[FM_ERRLEN];
    if (fm_mime_is_image(mime)) {
        json_t *img = json_object();
        void *exif = NULL;
        size_t exif_len = 0;
        if (fm_image_meta_file(path, l, img, &exif, &exif_len, why, sizeof why) == 0) {
            json_object_set_new(doc, "image", img);
            json_t *ex = exif ? fm_exif_parse(exif, exif_len) : NULL;
            if (ex)
                json_object_set_new(doc, "exif", ex);
        } else {
            json_decref(img);
            note(doc, "image", why);
        }
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
        if (fm_av_probe_file(path, l, av, NULL, why, sizeof why) == 0)
            json_object_set_new(doc, "media", av);
        else {
            json_decref(av);
            note(doc, "media", why);
        }
    }
    fm_json_clean(doc, 4096);
    if (fm_json_bound(doc, l->max_meta_bytes) != 0) {
        json_decref(doc);
        snprintf(err, errlen, "metadata larger than %zu bytes", l->max_meta_bytes);
        return -1;
    }
    *out = doc;
    return 0;
}
