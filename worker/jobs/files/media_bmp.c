/* BMP without ImageMagick (libvips 8.14 reads BMP only through its untrusted magickload): our
 * own header check against the limits, then an uncompressed decode that averages blocks of
 * pixels as it goes (shrink-on-load), so a large BMP is never held at full size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

typedef struct bmp {
    int width, height; /* height positive; top_down says the row order */
    bool top_down;
    int bpp;
    uint32_t mask[4]; /* r, g, b, a for 16/32 bpp */
    const uint8_t *palette;
    int ncolours, entry; /* palette entries and their size (3 for OS/2 core, else 4) */
    uint64_t offset, stride;
} bmp_t;

static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t
le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

bool
fm_is_bmp(const uint8_t *p, size_t n)
{
    return n >= 18 && p[0] == 'B' && p[1] == 'M';
}

/* Header only: n bytes of it are in p, the file has `size` bytes in all. */
static int
parse(const uint8_t *p, size_t n, uint64_t size, const fm_limits_t *l, bmp_t *b, char *err,
      size_t errlen)
{
    memset(b, 0, sizeof *b);
    if (!fm_is_bmp(p, n)) {
        (void)snprintf(err, errlen, "not a BMP file");
        return -1;
    }
    uint32_t hsize = le32(p + 14);
    if (hsize != 12 && hsize != 40 && hsize != 52 && hsize != 56 && hsize != 108 && hsize != 124) {
        (void)snprintf(err, errlen, "BMP header of %u bytes is not supported", hsize);
        return -1;
    }
    if (n < 14 + (size_t)hsize) {
        (void)snprintf(err, errlen, "truncated BMP header");
        return -1;
    }
    const uint8_t *h = p + 14;
    int64_t w, ht;
    uint32_t comp = 0, used = 0;
    if (hsize == 12) {
        w = le16(h + 4), ht = le16(h + 6), b->bpp = le16(h + 10), b->entry = 3;
    } else {
        w = (int32_t)le32(h + 4), ht = (int32_t)le32(h + 8), b->bpp = le16(h + 14);
        comp = le32(h + 16), used = le32(h + 32), b->entry = 4;
    }
    if (ht < 0)
        b->top_down = true, ht = -ht;
    if (w <= 0 || ht <= 0) {
        (void)snprintf(err, errlen, "image has no pixels");
        return -1;
    }
    if (w > l->max_side || ht > l->max_side) {
        (void)snprintf(err, errlen, "image too large: %lldx%lld, the limit is %d pixels per side",
                       (long long)w, (long long)ht, l->max_side);
        return -1;
    }
    uint64_t px = (uint64_t)w * (uint64_t)ht;
    if (px > l->max_pixels) {
        (void)snprintf(err, errlen, "image too large: %llu pixels, the limit is %llu",
                       (unsigned long long)px, (unsigned long long)l->max_pixels);
        return -1;
    }
    b->width = (int)w, b->height = (int)ht;
    if (comp == 1 || comp == 2 || comp == 4 || comp == 5) {
        (void)snprintf(err, errlen, "BMP with %s compression is not supported",
                       comp == 1   ? "RLE8"
                       : comp == 2 ? "RLE4"
                       : comp == 4 ? "JPEG"
                                   : "PNG");
        return -1;
    }
    if (comp != 0 && comp != 3 && comp != 6) {
        (void)snprintf(err, errlen, "BMP compression %u is not supported", comp);
        return -1;
    }
    switch (b->bpp) {
    case 1:
    case 4:
    case 8:
        if (comp != 0) {
            (void)snprintf(err, errlen, "BMP: bit fields on a %d-bit image", b->bpp);
            return -1;
        }
        b->ncolours = used && used < (1u << b->bpp) ? (int)used : 1 << b->bpp;
        b->palette = h + hsize + (hsize == 40 && comp == 3 ? 12 : 0);
        if ((size_t)(b->palette - p) + (size_t)b->ncolours * (size_t)b->entry > n) {
            (void)snprintf(err, errlen, "truncated BMP palette");
            return -1;
        }
        break;
    case 16:
    case 24:
    case 32:
        if (b->bpp == 24 && comp != 0) {
            (void)snprintf(err, errlen, "BMP: bit fields on a 24-bit image");
            return -1;
        }
        if (comp == 0 && b->bpp == 16)
            b->mask[0] = 0x7c00, b->mask[1] = 0x03e0, b->mask[2] = 0x001f;
        else if (comp == 0 && b->bpp == 32)
            b->mask[0] = 0xff0000, b->mask[1] = 0xff00, b->mask[2] = 0xff;
        else if (b->bpp != 24) {
            /* After a 40-byte header the masks follow it; V2+ headers hold them. */
            int k = comp == 6 || hsize >= 56 ? 4 : 3;
            if (n < 14 + 40 + 4 * (size_t)k) {
                (void)snprintf(err, errlen, "truncated BMP header");
                return -1;
            }
            for (int i = 0; i < k; i++)
                b->mask[i] = le32(h + 40 + 4 * (size_t)i);
            if (!b->mask[0] || !b->mask[1] || !b->mask[2]) {
                (void)snprintf(err, errlen, "BMP: empty colour mask");
                return -1;
            }
        }
        break;
    default:
        (void)snprintf(err, errlen, "BMP with %d bits per pixel is not supported", b->bpp);
        return -1;
    }
    b->offset = le32(p + 10);
    b->stride = (((uint64_t)b->width * (uint64_t)b->bpp + 31) / 32) * 4;
    uint64_t pixels = b->stride * (uint64_t)b->height;
    if (b->offset < 14 + (uint64_t)hsize || b->offset > size || pixels > size - b->offset) {
        (void)snprintf(err, errlen, "truncated BMP: %llu bytes of pixels expected",
                       (unsigned long long)pixels);
        return -1;
    }
    return 0;
}

static void
fill_info(const bmp_t *b, fm_image_info_t *info)
{
    memset(info, 0, sizeof *info);
    info->width = b->width, info->height = b->height, info->pages = 1;
    info->bands = b->mask[3] ? 4 : 3;
    (void)snprintf(info->loader, sizeof info->loader, "bmpload");
    (void)snprintf(info->interpretation, sizeof info->interpretation, "srgb");
}

int
fm_bmp_check(const uint8_t *p, size_t n, uint64_t size, const fm_limits_t *l, fm_image_info_t *info,
             char *err, size_t errlen)
{
    bmp_t b;
    if (parse(p, n, size, l, &b, err, errlen))
        return -1;
    fill_info(&b, info);
    return 0;
}

static uint8_t
channel(uint32_t px, uint32_t mask)
{
    if (!mask)
        return 255;
    int shift = __builtin_ctz(mask), bits = __builtin_popcount(mask >> shift);
    uint32_t v = (px & mask) >> shift, max = bits >= 32 ? UINT32_MAX : (1u << bits) - 1;
    return (uint8_t)(bits > 8 ? v >> (bits - 8) : v * 255u / max);
}

/* One pixel of a row as RGB, alpha composed over white (thumbnails are flattened anyway). */
static void
pixel(const bmp_t *b, const uint8_t *row, int x, uint8_t rgb[3])
{
    if (b->bpp <= 8) {
        int per = 8 / b->bpp, shift = 8 - b->bpp * (x % per + 1);
        int idx = (row[x / per] >> shift) & ((1 << b->bpp) - 1);
        if (idx >= b->ncolours)
            idx = 0;
        const uint8_t *c = b->palette + (size_t)idx * (size_t)b->entry;
        rgb[0] = c[2], rgb[1] = c[1], rgb[2] = c[0];
        return;
    }
    if (b->bpp == 24) {
        const uint8_t *c = row + 3 * (size_t)x;
        rgb[0] = c[2], rgb[1] = c[1], rgb[2] = c[0];
        return;
    }
    uint32_t px = b->bpp == 16 ? le16(row + 2 * (size_t)x) : le32(row + 4 * (size_t)x);
    for (int i = 0; i < 3; i++)
        rgb[i] = channel(px, b->mask[i]);
    if (b->mask[3]) {
        unsigned a = channel(px, b->mask[3]);
        for (int i = 0; i < 3; i++)
            rgb[i] = (uint8_t)((rgb[i] * a + 255u * (255u - a) + 127u) / 255u);
    }
}

int
fm_bmp_thumbs(const uint8_t *p, size_t n, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
              fm_image_info_t *info, char *err, size_t errlen)
{
    memset(out, 0, sizeof(fm_thumb_t) * FM_NSIZES);
    bmp_t b;
    if (parse(p, n, n, l, &b, err, errlen))
        return -1;
    fill_info(&b, info);
    /* Average s x s blocks while reading: at least twice the largest box stays for libvips'
     * resize, and memory is that, not the full image. */
    int lng = b.width > b.height ? b.width : b.height;
    int s = lng / (2 * l->sizes[0]);
    if (s < 1)
        s = 1;
    int ow = b.width / s, oh = b.height / s;
    ow = ow < 1 ? 1 : ow, oh = oh < 1 ? 1 : oh;
    uint32_t *acc = calloc((size_t)ow * 4, sizeof *acc); /* r, g, b, count */
    uint8_t *rgb = malloc((size_t)ow * (size_t)oh * 3);
    if (!acc || !rgb) {
        free(acc), free(rgb);
        (void)snprintf(err, errlen, "out of memory");
        return -1;
    }
    int oy = 0;
    for (int y = 0; y < b.height; y++) {
        int src = b.top_down ? y : b.height - 1 - y;
        const uint8_t *row = p + b.offset + b.stride * (uint64_t)src;
        for (int x = 0; x < b.width; x++) {
            int ox = x / s < ow ? x / s : ow - 1;
            uint8_t c[3];
            pixel(&b, row, x, c);
            uint32_t *a = acc + 4 * (size_t)ox;
            a[0] += c[0], a[1] += c[1], a[2] += c[2], a[3]++;
        }
        /* A block row is done every s rows; the remainder folds into the last one. */
        bool last = y == b.height - 1;
        if (((y + 1) % s == 0 && oy < oh - 1) || last) {
            uint8_t *o = rgb + (size_t)oy * (size_t)ow * 3;
            for (int x = 0; x < ow; x++) {
                uint32_t *a = acc + 4 * (size_t)x, k = a[3] ? a[3] : 1;
                for (int i = 0; i < 3; i++)
                    o[3 * x + i] = (uint8_t)((a[i] + k / 2) / k);
            }
            memset(acc, 0, (size_t)ow * 4 * sizeof *acc);
            oy++;
        }
    }
    free(acc);
    int rc = fm_thumbs_rgb(rgb, ow, oh, (size_t)ow * 3, l, out, err, errlen);
    free(rgb);
    return rc;
}
