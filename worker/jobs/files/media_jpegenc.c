/* JPEG thumbnails without libvips: RGB8 encoded with libjpeg-turbo into memory (as
 * vips_jpegsave with "strip" writes them: no marker at all besides the image's own), the smaller
 * boxes derived from the largest, and poster frames resized and encoded. */
/* jpeglib.h needs stdio.h and stddef.h first. */
#include <stddef.h>
#include <stdio.h>

#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

typedef struct enc_err {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
} enc_err_t;

static void
enc_error_exit(j_common_ptr c)
{
    longjmp(((enc_err_t *)(void *)c->err)->jmp, 1);
}

static void
enc_silent(j_common_ptr c)
{
    (void)c;
}

/* Our own destination (not jpeg_mem_dest: after an error its last buffer is not the caller's
 * to free): one malloc'ed buffer, doubled when full, capped. */
typedef struct dest {
    struct jpeg_destination_mgr pub;
    uint8_t *buf;
    size_t cap, max;
} dest_t;

static void
dest_init(j_compress_ptr c)
{
    dest_t *d = (dest_t *)(void *)c->dest;
    d->pub.next_output_byte = d->buf;
    d->pub.free_in_buffer = d->cap;
}

static boolean
dest_grow(j_compress_ptr c)
{
    dest_t *d = (dest_t *)(void *)c->dest;
    /* Called with the whole buffer full. */
    size_t ncap = d->cap * 2 > d->max ? d->max : d->cap * 2;
    uint8_t *nb = d->cap < d->max ? realloc(d->buf, ncap) : NULL;
    if (!nb)
        enc_error_exit((j_common_ptr)(void *)c);
    d->pub.next_output_byte = nb + d->cap;
    d->pub.free_in_buffer = ncap - d->cap;
    d->buf = nb, d->cap = ncap;
    return TRUE;
}

static void
dest_term(j_compress_ptr c)
{
    (void)c;
}

typedef struct enc {
    struct jpeg_compress_struct c;
    enc_err_t e;
    dest_t d;
    bool created;
} enc_t;

/* The setjmp lives here; everything it must undo is in *s, outside this frame. */
static int
encode_in(enc_t *s, const uint8_t *rgb, int w, int h, int quality)
{
    if (setjmp(s->e.jmp))
        return -1;
    jpeg_create_compress(&s->c);
    s->created = true;
    s->c.dest = &s->d.pub;
    s->c.image_width = (JDIMENSION)w, s->c.image_height = (JDIMENSION)h;
    s->c.input_components = 3;
    s->c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&s->c);
    jpeg_set_quality(&s->c, quality, TRUE);
    /* vips_jpegsave: 4:2:0 (libjpeg's default) below Q 90, no subsampling from 90; and with
     * "strip" no JFIF header either: nothing but the image. */
    if (quality >= 90)
        for (int i = 0; i < 3; i++)
            s->c.comp_info[i].h_samp_factor = s->c.comp_info[i].v_samp_factor = 1;
    s->c.write_JFIF_header = FALSE;
    s->c.write_Adobe_marker = FALSE;
    jpeg_start_compress(&s->c, TRUE);
    while (s->c.next_scanline < s->c.image_height) {
        JSAMPROW row = (JSAMPROW)(uintptr_t)(rgb + (size_t)s->c.next_scanline * (size_t)w * 3);
        jpeg_write_scanlines(&s->c, &row, 1);
    }
    jpeg_finish_compress(&s->c);
    return 0;
}

int
fm_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, void **out, size_t *len)
{
    *out = NULL, *len = 0;
    if (w < 1 || h < 1 || quality < 1 || quality > 100)
        return -1;
    enc_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->c.err = jpeg_std_error(&s->e.pub);
    s->e.pub.error_exit = enc_error_exit;
    s->e.pub.output_message = enc_silent;
    size_t raw = (size_t)w * (size_t)h * 3;
    s->d.cap = raw / 8 + 4096;
    s->d.max = raw * 2 + 65536; /* far above any JPEG of these pixels */
    s->d.buf = malloc(s->d.cap);
    s->d.pub.init_destination = dest_init;
    s->d.pub.empty_output_buffer = dest_grow;
    s->d.pub.term_destination = dest_term;
    int rc = s->d.buf ? encode_in(s, rgb, w, h, quality) : -1;
    if (rc == 0) {
        *len = s->d.cap - s->d.pub.free_in_buffer;
        *out = s->d.buf;
    } else {
        free(s->d.buf);
    }
    if (s->created)
        jpeg_destroy_compress(&s->c);
    free(s);
    return rc;
}

/* One for both paths, in files.so and in the image backend: thumbnails are malloc'ed here and
 * g_malloc'ed by libvips, which is plain malloc since GLib 2.46 (Debian 12 has 2.74). */
void
fm_thumbs_clear(fm_thumb_t out[FM_NSIZES])
{
    for (int i = 0; i < FM_NSIZES; i++) {
        free(out[i].data);
        out[i] = (fm_thumb_t){0};
    }
}

int
fm_thumbs_derive(const uint8_t *big, int w, int h, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                 char *err, size_t errlen)
{
    memset(out, 0, sizeof(fm_thumb_t) * FM_NSIZES);
    for (int i = 0; i < FM_NSIZES; i++) {
        int tw, th;
        fm_fit_derived(w, h, l->sizes[i], &tw, &th);
        uint8_t *px = NULL;
        if (tw != w || th != h)
            px = fm_resize(big, w, h, (size_t)w * 3, 3, tw, th);
        out[i].box = l->sizes[i];
        out[i].width = tw, out[i].height = th;
        if ((tw != w || th != h) && !px) {
            (void)snprintf(err, errlen, "cannot make thumbnails: out of memory");
            fm_thumbs_clear(out);
            return -1;
        }
        int rc = fm_jpeg_encode(px ? px : big, tw, th, l->quality, &out[i].data, &out[i].len);
        free(px);
        if (rc) {
            (void)snprintf(err, errlen, "cannot make thumbnails: JPEG encoding failed");
            fm_thumbs_clear(out);
            return -1;
        }
    }
    return 0;
}

int
fm_rgb_thumbs(const uint8_t *rgb, int width, int height, size_t stride, const fm_limits_t *l,
              fm_thumb_t out[FM_NSIZES], char *err, size_t errlen)
{
    memset(out, 0, sizeof(fm_thumb_t) * FM_NSIZES);
    if (fm_check_frame(width, height, l, err, errlen))
        return -1;
    int bw, bh;
    double hs, vs;
    fm_fit_box(width, height, l->sizes[0], &bw, &bh, &hs, &vs);
    fm_resizer_t *r = fm_resizer_new(width, height, bw, bh, hs, vs, 3);
    uint8_t *big = NULL;
    for (int y = 0; r && y < height; y++)
        fm_resizer_row(r, rgb + stride * (size_t)y);
    if (r)
        big = fm_resizer_finish(r);
    fm_resizer_free(r);
    if (!big) {
        (void)snprintf(err, errlen, "cannot scale the frame: out of memory");
        return -1;
    }
    int rc = fm_thumbs_derive(big, bw, bh, l, out, err, errlen);
    free(big);
    return rc;
}
