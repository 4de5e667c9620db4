/* Limits for untrusted media (defaults from RELIABILITY C18/C20/C21) and the libvips modules a
 * job may load, from the plugin's config keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

void
fm_limits_default(fm_limits_t *l)
{
    *l = (fm_limits_t){.max_pixels = 50000000,
                       .max_side = 16384,
                       .max_frames = 100,
                       .max_image_bytes = 25000000,
                       .max_av_bytes = 4ULL << 30,
                       .max_pdf_bytes = 100000000,
                       .max_streams = 16,
                       .av_deadline_s = 30,
                       .probesize = 5000000,
                       .analyze_us = 5000000,
                       .max_meta_bytes = 65536,
                       .sizes = {600, 300, 150},
                       .webp = false,
                       .quality = 82,
                       .vips_modules = "heif",
                       .vips_module_dir = FM_VIPS_MODULE_DIR};
}

static int
num(const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < lo || d > hi)
        return -1;
    *out = d;
    return 0;
}

int
fm_limits_set(fm_limits_t *l, const char *key, const char *value, char *err, size_t errlen)
{
    double d;
    if (!strcmp(key, "vips_modules")) {
        /* Module names (vips-NAME.so), comma-separated; "" allows none (no HEIF/AVIF). */
        if (strlen(value) >= sizeof l->vips_modules ||
            strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789,") != strlen(value)) {
            (void)snprintf(err, errlen,
                           "vips_modules: a comma-separated list of module names, not \"%s\"",
                           value);
            return -1;
        }
        (void)snprintf(l->vips_modules, sizeof l->vips_modules, "%s", value); /* length checked */
        return 0;
    }
    if (!strcmp(key, "vips_module_dir")) {
        if (value[0] != '/' || strlen(value) >= sizeof l->vips_module_dir || strstr(value, "/..")) {
            (void)snprintf(err, errlen, "vips_module_dir: an absolute directory, not \"%s\"",
                           value);
            return -1;
        }
        (void)snprintf(l->vips_module_dir, sizeof l->vips_module_dir, "%s", value); /* checked */
        return 0;
    }
    if (!strcmp(key, "thumbnail_format")) {
        if (strcmp(value, "jpeg") != 0 && strcmp(value, "webp") != 0) {
            (void)snprintf(err, errlen, "thumbnail_format: \"jpeg\" or \"webp\", not \"%s\"",
                           value);
            return -1;
        }
        l->webp = !strcmp(value, "webp");
        return 0;
    }
    static const struct {
        const char *key;
        double lo, hi;
    } keys[] = {{"max_pixels", 1, 1e10},      {"max_side", 1, 1e6},
                {"max_frames", 1, 1e6},       {"max_image_bytes", 1, 1e12},
                {"max_av_bytes", 1, 1e13},    {"max_streams", 1, 1000},
                {"av_deadline", 0.1, 3600},   {"probesize", 32, 1e9},
                {"analyzeduration", 0, 1e12}, {"max_metadata_bytes", 1024, 1 << 24},
                {"quality", 1, 100},          {"max_pdf_bytes", 1, 1e12}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(key, keys[i].key) != 0)
            continue;
        if (num(value, keys[i].lo, keys[i].hi, &d) != 0) {
            (void)snprintf(err, errlen, "%s: \"%s\" is not a number in [%g, %g]", key, value,
                           keys[i].lo, keys[i].hi);
            return -1;
        }
        switch (i) {
        case 0:
            l->max_pixels = (uint64_t)d;
            break;
        case 1:
            l->max_side = (int)d;
            break;
        case 2:
            l->max_frames = (int)d;
            break;
        case 3:
            l->max_image_bytes = (uint64_t)d;
            break;
        case 4:
            l->max_av_bytes = (uint64_t)d;
            break;
        case 5:
            l->max_streams = (int)d;
            break;
        case 6:
            l->av_deadline_s = d;
            break;
        case 7:
            l->probesize = (int64_t)d;
            break;
        case 8:
            l->analyze_us = (int64_t)d;
            break;
        case 9:
            l->max_meta_bytes = (size_t)d;
            break;
        case 10:
            l->quality = (int)d;
            break;
        default:
            l->max_pdf_bytes = (uint64_t)d;
            break;
        }
        return 0;
    }
    (void)snprintf(err, errlen, "unknown key \"%s\"", key);
    return -1;
}

int
fm_check_image_bytes(uint64_t n, const fm_limits_t *l, char *err, size_t errlen)
{
    if (n == 0) {
        (void)snprintf(err, errlen, "empty file");
        return -1;
    }
    if (n > l->max_image_bytes) {
        (void)snprintf(err, errlen, "image file too large: %llu bytes, the limit is %llu",
                       (unsigned long long)n, (unsigned long long)l->max_image_bytes);
        return -1;
    }
    return 0;
}

int
fm_check_frame(int w, int h, const fm_limits_t *l, char *err, size_t errlen)
{
    if (w > 0 && h > 0 && w <= l->max_side && h <= l->max_side)
        return 0;
    (void)snprintf(err, errlen, "frame size %dx%d out of limits", w, h);
    return -1;
}

int
fm_check_image_size(int w, int h, int pages, const fm_limits_t *l, char *err, size_t errlen)
{
    if (w <= 0 || h <= 0) {
        (void)snprintf(err, errlen, "image has no pixels");
        return -1;
    }
    if (w > l->max_side || h > l->max_side) {
        (void)snprintf(err, errlen, "image too large: %dx%d, the limit is %d pixels per side", w, h,
                       l->max_side);
        return -1;
    }
    if (pages > l->max_frames) {
        (void)snprintf(err, errlen, "image has too many frames: %d, the limit is %d", pages,
                       l->max_frames);
        return -1;
    }
    uint64_t px = (uint64_t)w * (uint64_t)h * (uint64_t)(pages > 0 ? pages : 1);
    if (px > l->max_pixels) {
        (void)snprintf(err, errlen,
                       "image too large: %llu pixels over %d frame(s), the limit is %llu",
                       (unsigned long long)px, pages, (unsigned long long)l->max_pixels);
        return -1;
    }
    return 0;
}

const char *
fm_thumb_ext(const fm_limits_t *l)
{
    return l->webp ? "webp" : "jpg";
}

const char *
fm_thumb_mime(const fm_limits_t *l)
{
    return l->webp ? "image/webp" : "image/jpeg";
}

/* vips_init loads every module in $VIPSHOME/<libdir suffix>/vips-modules-X.Y (libvips 8.14,
 * iofuncs/init.c) and skips a directory it cannot open. Nothing can exist under /dev/null, so
 * that scan finds nothing, with no directory of ours to create or keep empty. Here (no libvips
 * needed) so the job plugin can set it at start-up, before any thread exists. */
void
fm_image_no_implicit_modules(void)
{
    const char *h = getenv("VIPSHOME");
    if (!h || strcmp(h, "/dev/null") != 0)
        setenv("VIPSHOME", "/dev/null", 1);
}
