/* Images through libvips: a header-only check against the limits and the loader allow-list,
 * then one shrink-on-load decode into the largest box and the smaller boxes derived from it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "media.h"

/* Trusted, fuzzed loaders only; untrusted ones are also blocked globally in fm_image_init. */
static const char *const allowed[] = {"jpegload", "pngload",  "gifload",
                                      "webpload", "tiffload", "heifload"};

static bool
loader_allowed(const char *name)
{
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        size_t n = strlen(allowed[i]);
        /* "jpegload", "jpegload_buffer", "jpegload_source" */
        if (!strncmp(name, allowed[i], n) && (name[n] == 0 || name[n] == '_'))
            return true;
    }
    return false;
}

/* Only bytes that our own sniffing calls one of the allowed formats reach libvips at all:
 * finding a loader runs every loader's detection, and the blocked untrusted ones (poppler,
 * rsvg, ImageMagick) were seen parsing a hostile PDF before the block applied. HEIF/AVIF load
 * libvips' heif module on first use (no module is loaded implicitly: media_vips.c). */
static int
sniff_allowed(const uint8_t *p, size_t n, const fm_limits_t *l, char *err, size_t errlen)
{
    static const char *const ok[] = {"image/jpeg", "image/png", "image/gif", "image/webp",
                                     "image/tiff"};
    const char *m = fm_sniff(p, n);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(m, ok[i]))
            return 0;
    if (!strcmp(m, "image/heic") || !strcmp(m, "image/avif"))
        return fm_image_module("heif", l, err, errlen);
    (void)snprintf(err, errlen, "not an image in an allowed format");
    return -1;
}

static int read_head(const char *path, uint8_t *buf, size_t cap, size_t *n, uint64_t *size);

static void
vips_err(char *err, size_t errlen, const char *what)
{
    const char *b = vips_error_buffer();
    char line[160];
    size_t n = strcspn(b, "\n");
    fm_text_clean(b, n, line, sizeof line);
    (void)snprintf(err, errlen, "%s: %s", what, *line ? line : "unknown libvips error");
    vips_error_clear();
}

/* The limits, on a header-only image. */
static int
check_header(VipsImage *im, const fm_limits_t *l, fm_image_info_t *info, char *err, size_t errlen)
{
    const char *loader = NULL;
    if (vips_image_get_typeof(im, "vips-loader"))
        vips_image_get_string(im, "vips-loader", &loader);
    if (!loader || !loader_allowed(loader)) {
        (void)snprintf(err, errlen, "image format not allowed (loader %s)",
                       loader ? loader : "none");
        return -1;
    }
    int w = vips_image_get_width(im), h = vips_image_get_height(im);
    int pages = vips_image_get_n_pages(im);
    memset(info, 0, sizeof *info);
    info->width = w, info->height = h, info->pages = pages;
    info->bands = vips_image_get_bands(im);
    (void)snprintf(info->loader, sizeof info->loader, "%s", loader); /* an allowed short name */
    const char *interp =
        vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_guess_interpretation(im));
    /* A libvips enum nickname; cut, it would only be a shorter label. */
    (void)snprintf(info->interpretation, sizeof info->interpretation, "%s",
                   interp ? interp : "unknown");
    return fm_check_image_size(w, h, pages, l, err, errlen);
}

static int
check_size(uint64_t n, const fm_limits_t *l, char *err, size_t errlen)
{
    return fm_check_image_bytes(n, l, err, errlen);
}

static VipsImage *
open_file(const char *path, const fm_limits_t *l, fm_image_info_t *info, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        (void)snprintf(err, errlen, "cannot read the file");
        return NULL;
    }
    if (check_size((uint64_t)st.st_size, l, err, errlen))
        return NULL;
    uint8_t head[64];
    size_t hn = 0;
    uint64_t size;
    if (read_head(path, head, sizeof head, &hn, &size) != 0) {
        (void)snprintf(err, errlen, "not an image in an allowed format");
        return NULL;
    }
    if (sniff_allowed(head, hn, l, err, errlen))
        return NULL;
    const char *ld = vips_foreign_find_load(path);
    if (!ld) {
        vips_error_clear();
        (void)snprintf(err, errlen, "not an image in an allowed format");
        return NULL;
    }
    /* Lazy: only the header is read until pixels are asked for. */
    VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!im) {
        vips_err(err, errlen, "cannot read the image header");
        return NULL;
    }
    if (check_header(im, l, info, err, errlen)) {
        g_object_unref(im);
        return NULL;
    }
    return im;
}

static VipsImage *
open_buffer(const void *buf, size_t len, const fm_limits_t *l, fm_image_info_t *info, char *err,
            size_t errlen)
{
    if (check_size(len, l, err, errlen))
        return NULL;
    if (sniff_allowed(buf, len < 64 ? len : 64, l, err, errlen))
        return NULL;
    if (!vips_foreign_find_load_buffer(buf, len)) {
        vips_error_clear();
        (void)snprintf(err, errlen, "not an image in an allowed format");
        return NULL;
    }
    VipsImage *im =
        vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!im) {
        vips_err(err, errlen, "cannot read the image header");
        return NULL;
    }
    if (check_header(im, l, info, err, errlen)) {
        g_object_unref(im);
        return NULL;
    }
    return im;
}

/* Up to cap bytes of a regular file (all of it when cap >= its size) and its size. */
static int
read_head(const char *path, uint8_t *buf, size_t cap, size_t *n, uint64_t *size)
{
    struct stat st;
    int fd = fm_open_regular(path, &st);
    if (fd < 0)
        return -1;
    *size = (uint64_t)st.st_size, *n = 0;
    while (*n < cap) {
        ssize_t r = read(fd, buf + *n, cap - *n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        *n += (size_t)r;
    }
    close(fd);
    return 0;
}

#define BMP_HEAD 2048 /* file + info header + a 256-colour palette */

/* 1 when path is a BMP (info filled or err set in *rc), 0 when it is not one. */
static int
bmp_file_check(const char *path, const fm_limits_t *l, fm_image_info_t *info, char *err,
               size_t errlen, int *rc)
{
    uint8_t head[BMP_HEAD];
    size_t n;
    uint64_t size;
    if (read_head(path, head, sizeof head, &n, &size) != 0 || !fm_is_bmp(head, n))
        return 0;
    *rc = check_size(size, l, err, errlen) ? -1 : fm_bmp_check(head, n, size, l, info, err, errlen);
    return 1;
}

int
fm_image_check_file(const char *path, const fm_limits_t *l, fm_image_info_t *info, char *err,
                    size_t errlen)
{
    int rc;
    if (bmp_file_check(path, l, info, err, errlen, &rc))
        return rc;
    VipsImage *im = open_file(path, l, info, err, errlen);
    if (!im)
        return -1;
    g_object_unref(im);
    return 0;
}

int
fm_image_check_buffer(const void *buf, size_t len, const fm_limits_t *l, fm_image_info_t *info,
                      char *err, size_t errlen)
{
    if (fm_is_bmp(buf, len))
        return check_size(len, l, err, errlen) ? -1
                                               : fm_bmp_check(buf, len, len, l, info, err, errlen);
    VipsImage *im = open_buffer(buf, len, l, info, err, errlen);
    if (!im)
        return -1;
    g_object_unref(im);
    return 0;
}

/* sRGB 8-bit, alpha flattened on white for JPEG, kept for WebP. Consumes in. */
static VipsImage *
normalise(VipsImage *in, const fm_limits_t *l)
{
    VipsImage *t = NULL;
    if (vips_image_get_interpretation(in) != VIPS_INTERPRETATION_sRGB) {
        if (vips_colourspace(in, &t, VIPS_INTERPRETATION_sRGB, NULL))
            goto fail;
        g_object_unref(in), in = t;
    }
    if (!l->webp && vips_image_hasalpha(in)) {
        VipsArrayDouble *bg = vips_array_double_newv(3, 255.0, 255.0, 255.0);
        int rc = vips_flatten(in, &t, "background", bg, NULL);
        vips_area_unref(VIPS_AREA(bg));
        if (rc)
            goto fail;
        g_object_unref(in), in = t;
    }
    if (vips_image_get_format(in) != VIPS_FORMAT_UCHAR) {
        if (vips_cast(in, &t, VIPS_FORMAT_UCHAR, NULL))
            goto fail;
        g_object_unref(in), in = t;
    }
    return in;
fail:
    g_object_unref(in);
    return NULL;
}

static int
encode(VipsImage *im, const fm_limits_t *l, fm_thumb_t *t)
{
    t->width = vips_image_get_width(im);
    t->height = vips_image_get_height(im);
    /* strip: no EXIF, GPS, XMP, ICC or comments reach a thumbnail. */
    if (l->webp)
        return vips_webpsave_buffer(im, &t->data, &t->len, "Q", l->quality, "strip", TRUE, NULL);
    return vips_jpegsave_buffer(im, &t->data, &t->len, "Q", l->quality, "strip", TRUE, NULL);
}

/* From the decoded largest box (in memory), the three encoded thumbnails. Consumes big. */
static int
derive(VipsImage *big, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES], char *err, size_t errlen)
{
    VipsImage *mem = NULL;
    big = normalise(big, l);
    if (!big || !(mem = vips_image_copy_memory(big))) {
        if (big)
            g_object_unref(big);
        vips_err(err, errlen, "cannot decode the image");
        return -1;
    }
    g_object_unref(big);
    int rc = 0;
    for (int i = 0; i < FM_NSIZES && rc == 0; i++) {
        int w = vips_image_get_width(mem), h = vips_image_get_height(mem);
        int box = l->sizes[i], side = w > h ? w : h;
        VipsImage *t = mem;
        g_object_ref(t);
        if (side > box) {
            VipsImage *r = NULL;
            double s = (double)box / side;
            /* vscale keeps the long side exactly at the box despite rounding. */
            double hs = (double)(w > h ? (int)(h * s + 0.5) : box) / h;
            double ws = (double)(w > h ? box : (int)(w * s + 0.5)) / w;
            if (hs * h < 1)
                hs = 1.0 / h;
            if (ws * w < 1)
                ws = 1.0 / w;
            rc = vips_resize(t, &r, ws, "vscale", hs, NULL);
            g_object_unref(t);
            t = r;
        }
        out[i].box = box;
        if (rc == 0)
            rc = encode(t, l, &out[i]);
        if (t)
            g_object_unref(t);
    }
    g_object_unref(mem);
    if (rc) {
        vips_err(err, errlen, "cannot make thumbnails");
        fm_thumbs_clear(out);
        return -1;
    }
    return 0;
}

int
fm_thumbs_file(const char *path, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
               fm_image_info_t *info, char *err, size_t errlen)
{
    memset(out, 0, sizeof(fm_thumb_t) * FM_NSIZES);
    if (fm_image_check_file(path, l, info, err, errlen))
        return -1;
    if (!strcmp(info->loader, "bmpload")) {
        /* Checked: at most max_image_bytes, read whole for the decoder. */
        size_t n;
        uint64_t size;
        uint8_t *p = malloc(l->max_image_bytes);
        int rc = -1;
        if (!p || read_head(path, p, l->max_image_bytes, &n, &size) != 0 || n != size)
            (void)snprintf(err, errlen, "cannot read the file");
        else
            rc = fm_bmp_thumbs(p, n, l, out, info, err, errlen);
        free(p);
        return rc;
    }
    VipsImage *big = NULL;
    if (!strcmp(info->loader, "jpegload")) {
        VipsImage *im = NULL;
        int s = fm_jpeg_shrink(info->width, info->height, l->sizes[0]);
        /* Decoded at 1/s in the DCT (orientation kept in the metadata, applied below). */
        if (vips_jpegload(path, &im, "shrink", s, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                          VIPS_FAIL_ON_ERROR, NULL) ||
            vips_thumbnail_image(im, &big, l->sizes[0], "height", l->sizes[0], "size",
                                 VIPS_SIZE_DOWN, NULL)) {
            if (im)
                g_object_unref(im);
            vips_err(err, errlen, "cannot decode the image");
            return -1;
        }
        g_object_unref(im);
        return derive(big, l, out, err, errlen);
    }
    /* Shrink-on-load, EXIF orientation applied, page 0 only, truncation is an error. */
    if (vips_thumbnail(path, &big, l->sizes[0], "height", l->sizes[0], "size", VIPS_SIZE_DOWN,
                       "fail_on", VIPS_FAIL_ON_ERROR, NULL)) {
        vips_err(err, errlen, "cannot decode the image");
        return -1;
    }
    return derive(big, l, out, err, errlen);
}

int
fm_thumbs_buffer(const void *buf, size_t len, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                 fm_image_info_t *info, char *err, size_t errlen)
{
    memset(out, 0, sizeof(fm_thumb_t) * FM_NSIZES);
    if (fm_image_check_buffer(buf, len, l, info, err, errlen))
        return -1;
    if (!strcmp(info->loader, "bmpload"))
        return fm_bmp_thumbs(buf, len, l, out, info, err, errlen);
    VipsImage *big = NULL;
    if (vips_thumbnail_buffer((void *)(uintptr_t)buf, len, &big, l->sizes[0], "height", l->sizes[0],
                              "size", VIPS_SIZE_DOWN, "fail_on", VIPS_FAIL_ON_ERROR, NULL)) {
        vips_err(err, errlen, "cannot decode the image");
        return -1;
    }
    return derive(big, l, out, err, errlen);
}

int
fm_thumbs_rgb(const uint8_t *rgb, int width, int height, size_t stride, const fm_limits_t *l,
              fm_thumb_t out[FM_NSIZES], char *err, size_t errlen)
{
    memset(out, 0, sizeof(fm_thumb_t) * FM_NSIZES);
    if (fm_check_frame(width, height, l, err, errlen))
        return -1;
    /* new_from_memory_copy wants packed rows; the decoder's have padding. */
    size_t row = (size_t)width * 3;
    uint8_t *packed = g_malloc(row * (size_t)height);
    for (int y = 0; y < height; y++)
        memcpy(packed + row * (size_t)y, rgb + stride * (size_t)y, row);
    VipsImage *im = vips_image_new_from_memory_copy(packed, row * (size_t)height, width, height, 3,
                                                    VIPS_FORMAT_UCHAR);
    g_free(packed);
    if (!im) {
        vips_err(err, errlen, "cannot wrap the frame");
        return -1;
    }
    im->Type = VIPS_INTERPRETATION_sRGB;
    VipsImage *big = NULL;
    if (vips_thumbnail_image(im, &big, l->sizes[0], "height", l->sizes[0], "size", VIPS_SIZE_DOWN,
                             NULL)) {
        g_object_unref(im);
        vips_err(err, errlen, "cannot scale the frame");
        return -1;
    }
    g_object_unref(im);
    return derive(big, l, out, err, errlen);
}

int
fm_image_meta_file(const char *path, const fm_limits_t *l, json_t *image, void **exif,
                   size_t *exif_len, char *err, size_t errlen)
{
    fm_image_info_t info;
    *exif = NULL, *exif_len = 0;
    int rc;
    if (bmp_file_check(path, l, &info, err, errlen, &rc)) {
        if (rc == 0)
            fm_image_json(image, &info, info.bands == 4);
        return rc;
    }
    VipsImage *im = open_file(path, l, &info, err, errlen);
    if (!im)
        return -1;
    fm_image_json(image, &info, vips_image_hasalpha(im));
    const void *blob;
    size_t n;
    if (vips_image_get_typeof(im, VIPS_META_EXIF_NAME) &&
        !vips_image_get_blob(im, VIPS_META_EXIF_NAME, &blob, &n) && n > 0) {
        if ((*exif = malloc(n))) {
            memcpy(*exif, blob, n);
            *exif_len = n;
        }
    }
    g_object_unref(im);
    return 0;
}
