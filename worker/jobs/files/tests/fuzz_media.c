/* libFuzzer targets for the files job plugin: one of FUZZ_thumbnail (header check + decode
 * with the limits, BMP through our decoder), FUZZ_exif (libexif on any blob), FUZZ_probe (FFmpeg
 * through our AVIO), FUZZ_pdf (our PDF properties reader), FUZZ_header (our JPEG/PNG header
 * reader, and libexif on the EXIF it finds) or FUZZ_jpeg (JPEG thumbnails with libjpeg alone,
 * media_jpeg.c: decode, resize, orientation, encode). */
#include <stdint.h>
#include <stdlib.h>

#include "media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static fm_limits_t l;
    char err[FM_ERRLEN];
    if (!ready) {
        if (fm_init(err, sizeof err))
            abort();
        fm_limits_default(&l);
        /* Smaller limits keep each run fast; the checks are the same. */
        l.max_pixels = 4000000;
        l.av_deadline_s = 5;
        ready = 1;
    }
#if defined(FUZZ_thumbnail)
    fm_thumb_t t[FM_NSIZES];
    fm_image_info_t info;
    if (fm_thumbs_buffer(data, size, &l, t, &info, err, sizeof err) == 0)
        fm_thumbs_clear(t);
#elif defined(FUZZ_jpeg)
    fm_thumb_t t[FM_NSIZES];
    fm_image_info_t info;
    int rc = fm_jpeg_thumbs_buffer(data, size, &l, t, &info, err, sizeof err);
    if (rc < -1 || rc > 1)
        abort();
    if (rc == 1) {
        for (int i = 0; i < FM_NSIZES; i++)
            if (!t[i].data || t[i].width < 1 || t[i].height < 1 || t[i].width > l.sizes[i] ||
                t[i].height > l.sizes[i])
                abort();
        fm_thumbs_clear(t);
    }
#elif defined(FUZZ_exif)
    json_decref(fm_exif_parse(data, size));
#elif defined(FUZZ_header)
    json_t *o = json_object();
    const uint8_t *ex;
    size_t exn;
    /* As the metadata job calls it: the head of a file that may be longer. */
    int rc =
        fm_header_image(data, size, size + (size & 1) * 1000, &l, o, &ex, &exn, err, sizeof err);
    if (rc == 1 && ex) {
        if (ex < data || ex + exn > data + size)
            abort();
        json_decref(fm_exif_parse(ex, exn));
    }
    json_decref(o);
#elif defined(FUZZ_pdf)
    json_t *o = json_object();
    fm_pdf_meta(data, size, o, err, sizeof err);
    json_decref(o);
#else
    json_t *o = json_object();
    fm_av_probe_buffer(data, size, &l, o, err, sizeof err);
    json_decref(o);
#endif
    return 0;
}
