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
        (void)snprintf(hex + 2 * (size_t)i, 3, "%02x", d[i]);
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

int
fm_metadata_file(const char *path, const fm_limits_t *l, json_t **out, char *err, size_t errlen)
{
    uint64_t size;
    char hex[65];
    uint8_t head[64];
    size_t headn = sizeof head;
    *out = NULL;
    if (hash_file(path, &size, hex, head, &headn) != 0) {
        (void)snprintf(err, errlen, "cannot read the file");
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
        int rc = fm_image_meta_file(path, l, img, &exif, &exif_len, why, sizeof why);
        if (rc == FM_EBACKEND) {
            json_decref(img);
            json_decref(doc);
            (void)snprintf(err, errlen, "%s", why);
            return rc;
        }
        if (rc == 0) {
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
    fm_json_clean(doc, 4096);
    if (fm_json_bound(doc, l->max_meta_bytes) != 0) {
        json_decref(doc);
        (void)snprintf(err, errlen, "metadata larger than %zu bytes", l->max_meta_bytes);
        return -1;
    }
    *out = doc;
    return 0;
}
