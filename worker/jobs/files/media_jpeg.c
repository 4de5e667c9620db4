/* JPEG thumbnails with libjpeg-turbo alone (no libvips in the process): the plain 8-bit
 * grey/YCbCr/RGB files that make most uploads, decoded at a DCT scale and resized as rows
 * arrive; anything else, and any file libjpeg complains about, is left to libvips. */
/* jpeglib.h needs stdio.h and stddef.h first. */
#include <stddef.h>
#include <stdio.h>

#include <jpeglib.h>
#include <libexif/exif-data.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media.h"

/* libjpeg's own allocations (a progressive file holds all its coefficients: 6 bytes a pixel at
 * 4:4:4, 3 at 4:2:0): beyond this it fails and the file goes to libvips. */
#define JPEG_MAX_MEMORY ((long)512 << 20)

typedef struct dec_err {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    bool scans; /* abandoned at FM_JPEG_MAX_SCANS */
} dec_err_t;

typedef struct dec {
    struct jpeg_decompress_struct d;
    dec_err_t e;
    struct jpeg_progress_mgr prog;
    bool created;
    FILE *f;
    uint8_t *row;
    fm_resizer_t *rs;
    uint8_t *px; /* the largest box, as decoded (before orientation) */
} dec_t;

/* Errors and warnings alike end the attempt: libvips then reads the file with its own policy
 * (which warnings it tolerates, its messages). Nothing is printed, nothing exits. */
static void
on_error(j_common_ptr c)
{
    longjmp(((dec_err_t *)(void *)c->err)->jmp, 1);
}

static void
on_message(j_common_ptr c, int level)
{
    if (level < 0)
        longjmp(((dec_err_t *)(void *)c->err)->jmp, 1);
}

static void
on_output(j_common_ptr c)
{
    (void)c;
}

/* Called before each unit of input while a multi-scan file is absorbed: a progressive file of
 * thousands of scans (each one a pass over the whole image) is refused, not decoded. */
static void
on_progress(j_common_ptr c)
{
    if (c->is_decompressor &&
        ((j_decompress_ptr)(void *)c)->input_scan_number > FM_JPEG_MAX_SCANS) {
        ((dec_err_t *)(void *)c->err)->scans = true;
        longjmp(((dec_err_t *)(void *)c->err)->jmp, 1);
    }
}

/* Here rather than in media_image.c: both the libvips path (the image backend) and this one
 * (files.so, which does not link the backend) scale by this rule. */
int
fm_jpeg_shrink(int width, int height, int box)
{
    int side = width > height ? width : height, s = 8;
    while (s > 1 && side / s < box)
        s /= 2;
    return s;
}

/* The EXIF orientation as libvips 8.14 takes it: the first APP1 longer than 4 bytes starting
 * "Exif", libexif without FOLLOW_SPECIFICATION, IFD0's Orientation from an integer entry of
 * under 10 components, outside 1..8 meaning 1. 0 for an entry libvips reads through text (not
 * copied here: the file goes to libvips). */
static int
orientation(struct jpeg_decompress_struct *d)
{
    jpeg_saved_marker_ptr m = d->marker_list;
    while (m && !(m->marker == JPEG_APP0 + 1 && m->data_length > 4 && !memcmp(m->data, "Exif", 4)))
        m = m->next;
    if (!m)
        return 1;
    ExifData *ed = exif_data_new();
    if (!ed)
        return 0;
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, m->data, m->data_length);
    ExifEntry *e = ed->ifd[EXIF_IFD_0]
                       ? exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION)
                       : NULL;
    int o = 1;
    if (e) {
        ExifByteOrder bo = exif_data_get_byte_order(ed);
        ExifFormat f = e->format;
        size_t need = f == EXIF_FORMAT_SHORT || f == EXIF_FORMAT_SSHORT ? 2
                      : f == EXIF_FORMAT_LONG || f == EXIF_FORMAT_SLONG ? 4
                                                                        : 0;
        if (!need || e->components < 1 || e->components >= 10 || !e->data ||
            e->size / e->components < need)
            o = 0;
        else if (f == EXIF_FORMAT_SHORT)
            o = exif_get_short(e->data, bo);
        else if (f == EXIF_FORMAT_SSHORT)
            o = exif_get_sshort(e->data, bo);
        else if (f == EXIF_FORMAT_LONG)
            o = (int)exif_get_long(e->data, bo);
        else
            o = exif_get_slong(e->data, bo);
        if (need && (o < 1 || o > 8))
            o = 1;
    }
    exif_data_unref(ed);
    return o;
}

/* The setjmp lives here; what it must undo is in *j, outside this frame. 1, 0 or -1 as
 * fm_jpeg_thumbs_file. */
static int
decode(dec_t *j, const void *buf, size_t len, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
       fm_image_info_t *info, char *err, size_t errlen)
{
    if (setjmp(j->e.jmp)) {
        if (!j->e.scans)
            return 0;
        (void)snprintf(err, errlen, "JPEG with more than %d scans is not decoded",
                       FM_JPEG_MAX_SCANS);
        return -1;
    }
    struct jpeg_decompress_struct *d = &j->d;
    jpeg_create_decompress(d);
    j->created = true;
    d->mem->max_memory_to_use = JPEG_MAX_MEMORY;
    jpeg_save_markers(d, JPEG_APP0 + 1, 0xffff);
    if (j->f)
        jpeg_stdio_src(d, j->f);
    else
        jpeg_mem_src(d, buf, (unsigned long)len);
    jpeg_read_header(d, TRUE);
    /* What libvips reads the same way without colour management: 8-bit Huffman, grey or
     * YCbCr/RGB. CMYK/YCCK, 12-bit, arithmetic coding, 2 or 4+ components: libvips. */
    if (d->data_precision != 8 || d->arith_code ||
        !((d->num_components == 1 && d->jpeg_color_space == JCS_GRAYSCALE) ||
          (d->num_components == 3 &&
           (d->jpeg_color_space == JCS_YCbCr || d->jpeg_color_space == JCS_RGB))))
        return 0;
    int w = (int)d->image_width, h = (int)d->image_height;
    if (fm_check_image_size(w, h, 1, l, err, errlen))
        return -1;
    int orient = orientation(d);
    if (!orient)
        return 0;
    int s = fm_jpeg_shrink(w, h, l->sizes[0]), ch = d->num_components;
    d->scale_num = 1, d->scale_denom = (unsigned)s;
    d->out_color_space = ch == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_calc_output_dimensions(d);
    /* libvips rounds the scaled size down (libjpeg up) and drops the partial last column and
     * row: the same here, for the same dimensions. */
    int cw = w / s, chh = h / s;
    if (cw < 1 || chh < 1 || (int)d->output_width < cw || (int)d->output_height < chh ||
        d->output_components != ch)
        return 0;
    int bw, bh;
    double hs, vs;
    fm_fit_box(cw, chh, l->sizes[0], &bw, &bh, &hs, &vs);
    j->rs = fm_resizer_new(cw, chh, bw, bh, hs, vs, ch);
    j->row = malloc((size_t)d->output_width * (size_t)ch);
    if (!j->rs || !j->row) {
        (void)snprintf(err, errlen, "cannot decode the image: out of memory");
        return -1;
    }
    j->prog.progress_monitor = on_progress;
    d->progress = &j->prog;
    jpeg_start_decompress(d);
    /* Every row libjpeg gives (so a cut in the last one is seen), the first chh resized. */
    while (d->output_scanline < d->output_height) {
        JSAMPROW r = j->row;
        int y = (int)d->output_scanline;
        if (jpeg_read_scanlines(d, &r, 1) != 1)
            return 0;
        if (y < chh)
            fm_resizer_row(j->rs, j->row);
    }
    j->px = fm_resizer_finish(j->rs);
    if (!j->px)
        return 0;
    memset(info, 0, sizeof *info);
    info->width = w, info->height = h, info->pages = 1, info->bands = ch;
    (void)snprintf(info->loader, sizeof info->loader, "jpegload");
    (void)snprintf(info->interpretation, sizeof info->interpretation, "%s",
                   ch == 1 ? "b-w" : "srgb");
    /* Orientation after the resize, as vips_thumbnail does; grey becomes sRGB there too. */
    uint8_t *rgb = ch == 1 ? fm_grey_to_rgb(j->px, bw, bh) : NULL;
    if (ch == 1) {
        if (!rgb) {
            (void)snprintf(err, errlen, "cannot decode the image: out of memory");
            return -1;
        }
        free(j->px);
        j->px = rgb;
    }
    int ow = bw, oh = bh;
    if (orient != 1) {
        uint8_t *t = fm_orient(j->px, bw, bh, 3, orient, &ow, &oh);
        if (!t) {
            (void)snprintf(err, errlen, "cannot decode the image: out of memory");
            return -1;
        }
        free(j->px);
        j->px = t;
    }
    return fm_thumbs_derive(j->px, ow, oh, l, out, err, errlen) ? -1 : 1;
}

static int
run(FILE *f, const void *buf, size_t len, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
    fm_image_info_t *info, char *err, size_t errlen)
{
    dec_t *j = calloc(1, sizeof *j);
    if (!j) {
        (void)snprintf(err, errlen, "cannot decode the image: out of memory");
        return -1;
    }
    j->f = f;
    j->d.err = jpeg_std_error(&j->e.pub);
    j->e.pub.error_exit = on_error;
    j->e.pub.emit_message = on_message;
    j->e.pub.output_message = on_output;
    fm_image_info_t tmp;
    int rc = decode(j, buf, len, l, out, &tmp, err, errlen);
    if (rc == 1)
        *info = tmp;
    if (j->created)
        jpeg_destroy_decompress(&j->d);
    fm_resizer_free(j->rs);
    free(j->row);
    free(j->px);
    free(j);
    return rc;
}

int
fm_jpeg_thumbs_buffer(const void *buf, size_t len, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                      fm_image_info_t *info, char *err, size_t errlen)
{
    memset(out, 0, sizeof(fm_thumb_t) * FM_NSIZES);
    if (l->webp || strcmp(fm_sniff(buf, len < 64 ? len : 64), "image/jpeg") != 0)
        return 0;
    if (fm_check_image_bytes(len, l, err, errlen))
        return -1;
    return run(NULL, buf, len, l, out, info, err, errlen);
}

int
fm_jpeg_thumbs_file(const char *path, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                    fm_image_info_t *info, char *err, size_t errlen)
{
    memset(out, 0, sizeof(fm_thumb_t) * FM_NSIZES);
    if (l->webp)
        return 0;
    struct stat st;
    int fd = fm_open_regular(path, &st);
    if (fd < 0)
        return 0; /* libvips' path says why */
    uint8_t head[3];
    if (pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        strcmp(fm_sniff(head, sizeof head), "image/jpeg") != 0) {
        close(fd);
        return 0;
    }
    if (fm_check_image_bytes((uint64_t)st.st_size, l, err, errlen)) {
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return 0;
    }
    int rc = run(f, NULL, 0, l, out, info, err, errlen);
    (void)fclose(f); /* read only */
    return rc;
}
