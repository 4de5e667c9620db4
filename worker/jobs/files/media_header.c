/* JPEG and PNG facts for the metadata document from the first bytes of a file, read the way
 * libvips 8.14 reads their headers (libjpeg-turbo 2.1 up to the first SOS, libpng 1.6 up to the
 * first IDAT), so metadata needs neither the libvips backend nor the whole file. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "media.h"

typedef struct facts {
    int width, height, bands;
    const char *space;  /* libvips' interpretation nickname, as fm_image_meta_file gives it */
    const char *loader; /* the libvips loader that would read it */
    bool alpha;         /* vips_image_hasalpha */
    const uint8_t *exif;
    size_t exif_len;
} facts_t;

static unsigned
be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- JPEG: jdmarker.c's read_markers, with every check that makes jpeg_read_header fail ---- */

#define JPEG_MAX_DIM 65500 /* libjpeg-turbo's JPEG_MAX_DIMENSION */
#define JPEG_MAX_WARN 100  /* libvips makes the 100th libjpeg warning fatal */

typedef struct jpeg {
    bool sof, jfif, adobe;
    int xform, warnings;
    int precision, ncomp;
    unsigned width, height;
    uint8_t id[4], samp[4];
} jpeg_t;

/* get_dht: table classes and counts within the segment, nothing left over. */
static bool
dht_ok(const uint8_t *s, size_t len)
{
    long left = (long)len;
    const uint8_t *q = s;
    while (left > 16) {
        int index = q[0], count = 0;
        for (int i = 1; i <= 16; i++)
            count += q[i];
        q += 17, left -= 17;
        if (count > 256 || count > left)
            return false;
        q += count, left -= count;
        if (index & 0x10)
            index -= 0x10;
        if (index >= 4)
            return false;
    }
    return left == 0;
}

/* get_dqt: 8- or 16-bit tables 0..3 filling the segment exactly (libjpeg reads a table that
 * overruns the segment and then fails on the length). */
static bool
dqt_ok(const uint8_t *s, size_t len)
{
    long left = (long)len;
    const uint8_t *q = s;
    while (left > 0) {
        long need = 1 + ((q[0] >> 4) ? 128 : 64);
        if ((q[0] & 0x0f) >= 4 || need > left)
            return false;
        q += need, left -= need;
    }
    return left == 0;
}

static bool
sof(jpeg_t *j, const uint8_t *s, size_t len)
{
    if (j->sof || len < 6)
        return false;
    j->precision = s[0];
    j->height = be16(s + 1), j->width = be16(s + 3);
    j->ncomp = s[5];
    /* Only what default_decompress_parms maps to grey, RGB and CMYK: 2 or 5+ components come
     * out as JCS_UNKNOWN, which libvips labels in ways not worth copying. */
    if (!j->height || !j->width || (j->ncomp != 1 && j->ncomp != 3 && j->ncomp != 4) ||
        len != 6 + 3 * (size_t)j->ncomp)
        return false;
    for (int c = 0; c < j->ncomp; c++)
        j->id[c] = s[6 + 3 * c], j->samp[c] = s[7 + 3 * c];
    j->sof = true;
    return true;
}

/* get_sos (component selectors as libjpeg-turbo 2.1 matches them), then initial_setup. */
static bool
sos(const jpeg_t *j, const uint8_t *s, size_t len)
{
    if (!j->sof || len < 1)
        return false;
    int n = s[0];
    if (n < 1 || n > 4 || len != 4 + 2 * (size_t)n)
        return false;
    int cur[4] = {0}; /* component index + 1 per scan slot, 0 for none */
    for (int i = 0; i < n; i++) {
        int cc = s[1 + 2 * i], ci;
        for (ci = 0; ci < j->ncomp; ci++)
            if (cc == j->id[ci] && !cur[ci])
                break;
        if (ci == j->ncomp)
            return false;
        for (int k = 0; k < i; k++)
            if (cur[k] == ci + 1)
                return false;
        cur[i] = ci + 1;
    }
    if (j->width > JPEG_MAX_DIM || j->height > JPEG_MAX_DIM || j->precision != 8)
        return false;
    for (int c = 0; c < j->ncomp; c++) {
        int h = j->samp[c] >> 4, v = j->samp[c] & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4)
            return false;
    }
    return true;
}

/* An APPn segment: JFIF and Adobe as examine_app0/app14 see them, the first APP1 starting
 * "Exif" as libvips attaches it (the whole payload, "Exif\0\0" included). */
static void
appn(jpeg_t *j, int m, const uint8_t *s, size_t len, facts_t *f)
{
    if (m == 0xe0 && len >= 14 && !memcmp(s, "JFIF", 5)) {
        j->jfif = true;
        if (s[5] != 1)
            j->warnings++; /* JWRN_JFIF_MAJOR */
    } else if (m == 0xee && len >= 12 && !memcmp(s, "Adobe", 5)) {
        j->adobe = true;
        j->xform = s[11];
    } else if (m == 0xe1 && !f->exif && len > 4 && !memcmp(s, "Exif", 4)) {
        f->exif = s, f->exif_len = len;
    }
}

/* 1 with f, or 0 for anything libvips may answer differently (it then reads the file). */
static int
jpeg_head(const uint8_t *p, size_t n, facts_t *f)
{
    jpeg_t j = {0};
    size_t i = 2; /* after SOI, which fm_sniff checked */
    for (;;) {
        /* Bytes other than FF before a marker are skipped by libjpeg with a warning: left to it. */
        if (i >= n || p[i] != 0xff)
            return 0;
        while (i < n && p[i] == 0xff)
            i++;
        if (i >= n)
            return 0;
        int m = p[i++];
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
            continue; /* TEM, RSTn: no parameters */
        if (n - i < 2)
            return 0;
        size_t len = be16(p + i);
        if (len < 2 || len > n - i)
            return 0;
        const uint8_t *s = p + i + 2;
        len -= 2, i += 2 + len;
        switch (m) {
        case 0xc0: /* baseline */
        case 0xc1: /* extended sequential */
        case 0xc2: /* progressive; arithmetic (c9, ca) and lossless ones are left to libvips */
            if (!sof(&j, s, len))
                return 0;
            break;
        case 0xc4:
            if (!dht_ok(s, len))
                return 0;
            break;
        case 0xdb:
            if (!dqt_ok(s, len))
                return 0;
            break;
        case 0xdd: /* DRI */
            if (len != 2)
                return 0;
            break;
        case 0xdc: /* DNL: skipped */
        case 0xfe: /* COM */
            break;
        case 0xda:
            if (!sos(&j, s, len))
                return 0;
            goto done;
        default:
            if (m >= 0xe0 && m <= 0xef) {
                appn(&j, m, s, len, f);
                break;
            }
            return 0; /* SOI again, EOI, DAC, other SOFn, reserved: an error or not ours */
        }
    }
done:
    /* default_decompress_parms: an Adobe transform it does not know is a warning. */
    if ((j.ncomp == 3 && !j.jfif && j.adobe && j.xform > 1) ||
        (j.ncomp == 4 && j.adobe && j.xform != 0 && j.xform != 2))
        j.warnings++;
    if (j.warnings >= JPEG_MAX_WARN)
        return 0;
    f->width = (int)j.width, f->height = (int)j.height, f->bands = j.ncomp;
    f->space = j.ncomp == 1 ? "b-w" : j.ncomp == 3 ? "srgb" : "cmyk";
    f->loader = "jpegload";
    f->alpha = false;
    return 1;
}

/* ---- PNG: png_read_info's chunks up to the first IDAT, as libpng 1.6 and vipspng.c see them ----
 */

#define VIPS_MAX_SIDE 10000000u /* VIPS_MAX_COORD: libvips' png_set_user_limits */

typedef struct png {
    bool plte, trns;
    int type, depth, npal;
} png_t;

static bool
ihdr(png_t *g, const uint8_t *d, size_t len, facts_t *f)
{
    if (len != 13)
        return false;
    uint32_t w = be32(d), h = be32(d + 4);
    int depth = d[8], type = d[9];
    /* png_check_IHDR */
    if (!w || !h || w > VIPS_MAX_SIDE || h > VIPS_MAX_SIDE || d[10] || d[11] || d[12] > 1)
        return false;
    if (depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16)
        return false;
    if (type == 1 || type == 5 || type > 6 || (type == 3 && depth > 8) ||
        ((type == 2 || type == 4 || type == 6) && depth < 8))
        return false;
    g->type = type, g->depth = depth;
    f->width = (int)w, f->height = (int)h;
    return true;
}

/* png_handle_PLTE: false when libpng fails, or when a tRNS before it is cancelled while still
 * marked valid (libvips then counts an alpha band libpng does not deliver and fails). */
static bool
plte(png_t *g, size_t len)
{
    if (g->plte)
        return false;
    g->plte = true;
    if (!(g->type & 2))
        return true; /* ignored in grey images */
    if (len > 768 || len % 3)
        return g->type != 3;
    int num = (int)len / 3;
    if (g->type == 3 && num > 1 << g->depth)
        num = 1 << g->depth;
    if (!num || g->trns)
        return false;
    g->npal = num;
    return true;
}

/* png_handle_tRNS: which ones make PNG_INFO_tRNS valid (the others are warnings). */
static void
trns(png_t *g, size_t len)
{
    if (g->trns)
        return;
    g->trns = (g->type == 0 && len == 2) || (g->type == 2 && len == 6) ||
              (g->type == 3 && g->plte && len >= 1 && len <= (size_t)g->npal);
}

static int
png_head(const uint8_t *p, size_t n, facts_t *f)
{
    png_t g = {0};
    bool have_ihdr = false;
    size_t i = 8; /* after the signature, which fm_sniff checked */
    for (;;) {
        if (n - i < 8)
            return 0;
        uint32_t len = be32(p + i);
        const uint8_t *name = p + i + 4, *d = p + i + 8;
        if (len > 0x7fffffffu)
            return 0;
        for (int k = 0; k < 4; k++)
            if (!((name[k] >= 'A' && name[k] <= 'Z') || (name[k] >= 'a' && name[k] <= 'z')))
                return 0;
        if (!memcmp(name, "IDAT", 4)) {
            if (!have_ihdr || (g.type == 3 && !g.plte))
                return 0;
            break;
        }
        if (n - i < 12 || len > n - i - 12)
            return 0;
        /* libpng fails on a bad CRC in a critical chunk and drops an ancillary one: either
         * way not a file to answer for. */
        if (crc32(crc32(0L, Z_NULL, 0), name, 4 + (uInt)len) != be32(d + len))
            return 0;
        i += 12 + (size_t)len;
        if (!have_ihdr) {
            if (memcmp(name, "IHDR", 4) != 0 || !ihdr(&g, d, len, f))
                return 0;
            have_ihdr = true;
        } else if (!memcmp(name, "PLTE", 4)) {
            if (!plte(&g, len))
                return 0;
        } else if (!memcmp(name, "tRNS", 4)) {
            trns(&g, len);
        } else if (!memcmp(name, "eXIf", 4)) {
            /* png_handle_eXIf: the first with a consistent byte order ("II" or "MM") is the
             * blob libvips attaches, as it is (no "Exif\0\0" header). */
            if (!f->exif && len >= 2 && (d[0] == 'I' || d[0] == 'M') && d[1] == d[0])
                f->exif = d, f->exif_len = len;
        } else if (!(name[0] & 0x20)) {
            return 0; /* IHDR again, IEND before IDAT, an unknown critical chunk: errors */
        }
    }
    /* png2vips_header: palette and RGB give 3 bands, grey 1; one more for alpha or tRNS. */
    int base = (g.type & 2) ? 3 : 1;
    f->bands = base + (g.trns || g.type == 4 || g.type == 6);
    if (g.depth > 8)
        f->space = base < 3 ? "grey16" : "rgb16";
    else
        f->space = base < 3 ? "b-w" : "srgb";
    f->alpha = f->bands > (base < 3 ? 1 : 3);
    f->loader = "pngload";
    return 1;
}

int
fm_header_image(const uint8_t *p, size_t n, uint64_t file_size, const fm_limits_t *l, json_t *image,
                const uint8_t **exif, size_t *exif_len, char *err, size_t errlen)
{
    *exif = NULL, *exif_len = 0;
    if (file_size == 0)
        return fm_check_image_bytes(0, l, err, errlen);
    if (n > file_size)
        return 0;
    const char *mime = fm_sniff(p, n < 64 ? n : 64);
    bool jpeg = !strcmp(mime, "image/jpeg"), png = !strcmp(mime, "image/png");
    if (!jpeg && !png)
        return 0;
    /* The order of fm_image_meta_file: the file's size before its header. */
    if (fm_check_image_bytes(file_size, l, err, errlen))
        return -1;
    facts_t f = {0};
    if (!(jpeg ? jpeg_head(p, n, &f) : png_head(p, n, &f)))
        return 0;
    if (fm_check_image_size(f.width, f.height, 1, l, err, errlen))
        return -1;
    fm_image_info_t info = {.width = f.width, .height = f.height, .pages = 1, .bands = f.bands};
    (void)snprintf(info.loader, sizeof info.loader, "%s", f.loader);
    (void)snprintf(info.interpretation, sizeof info.interpretation, "%s", f.space);
    fm_image_json(image, &info, f.alpha);
    *exif = f.exif, *exif_len = f.exif_len;
    return 1;
}
