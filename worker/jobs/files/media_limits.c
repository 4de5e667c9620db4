/* Limits for untrusted media (defaults from RELIABILITY C18/C20/C21) and the one-time library
 * set-up that makes libvips and FFmpeg safe to use on them. */
#include <errno.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>
/* after vips.h, which it needs */
#include <vips/vector.h>

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
                       .quality = 82};
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
    if (!strcmp(key, "thumbnail_format")) {
        if (strcmp(value, "jpeg") && strcmp(value, "webp")) {
            snprintf(err, errlen, "thumbnail_format: \"jpeg\" or \"webp\", not \"%s\"", value);
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
        if (strcmp(key, keys[i].key))
            continue;
        if (num(value, keys[i].lo, keys[i].hi, &d) != 0) {
            snprintf(err, errlen, "%s: \"%s\" is not a number in [%g, %g]", key, value, keys[i].lo,
                     keys[i].hi);
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
    snprintf(err, errlen, "unknown key \"%s\"", key);
    return -1;
}

/* Loader warnings (a truncated tile, ...) are reported as the job's error; not on stderr. */
static void
quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer ud)
{
    (void)domain, (void)level, (void)msg, (void)ud;
}

int
fm_init(char *err, size_t errlen)
{
    static int done;
    if (done)
        return 0;
    if (VIPS_INIT("powernode-files")) {
        snprintf(err, errlen, "libvips: %s", vips_error_buffer());
        vips_error_clear();
        return -1;
    }
    /* ImageMagick, PDF, SVG, FITS, Matlab, ... are marked untrusted by libvips: never used. */
    vips_block_untrusted_set(TRUE);
    /* Jobs are independent: caching operations only keeps other jobs' pixels alive. */
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    /* No ORC run-time code generation: liborc writes its JIT code to an executable temporary
     * file in $HOME or $TMPDIR (outside the job's directory, seen under strace) and maps it. */
    vips_vector_set_enabled(FALSE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, quiet, NULL);
    av_log_set_level(AV_LOG_QUIET);
    done = 1;
    return 0;
}

void
fm_shutdown(void)
{
    vips_shutdown();
}
