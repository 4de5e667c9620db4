/* The files job plugin's processing core: limits, safe image/EXIF/FFmpeg entry points and the
 * metadata document. No job SDK types here, so the local CLI, tests and fuzzers link it too. */
#ifndef FM_MEDIA_H
#define FM_MEDIA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FM_NSIZES 3
#define FM_ERRLEN 256
/* Returned instead of -1 when a backend of the job plugin cannot be loaded: not the file's
 * fault, so the job is retried rather than the file marked failed. */
#define FM_EBACKEND (-2)

typedef struct fm_limits {
    uint64_t max_pixels;       /* width x height summed over frames (50 Mpx) */
    int max_side;              /* pixels per side (16384) */
    int max_frames;            /* pages/frames (100) */
    uint64_t max_image_bytes;  /* input size for images (25 MB) */
    uint64_t max_av_bytes;     /* input size for audio/video (4 GiB) */
    uint64_t max_pdf_bytes;    /* input size for PDF properties (100 MB) */
    int max_streams;           /* FFmpeg streams (16) */
    double av_deadline_s;      /* wall clock for one FFmpeg open/probe/decode (30 s) */
    int64_t probesize;         /* bytes FFmpeg may read to probe (5 MB) */
    int64_t analyze_us;        /* microseconds of media FFmpeg may analyse (5 s) */
    size_t max_meta_bytes;     /* encoded metadata document (64 KiB) */
    int sizes[FM_NSIZES];      /* thumbnail boxes, largest first (600, 300, 150) */
    bool webp;                 /* thumbnails as WebP instead of JPEG */
    int quality;               /* encoder quality (82) */
    char vips_modules[64];     /* libvips modules a job may load by name ("heif") */
    char vips_module_dir[256]; /* where they are (libvips' own module directory) */
} fm_limits_t;

void fm_limits_default(fm_limits_t *l);
/* Set one limit from its config text ("max_pixels", "max_side", ...); -1 with err on a bad
 * key or value. */
int fm_limits_set(fm_limits_t *l, const char *key, const char *value, char *err, size_t errlen);

/* Once per process, for code that links everything (tests, fuzzers): fm_image_init and
 * fm_av_init. 0, or -1 with err. */
int fm_init(char *err, size_t errlen);
/* At unload: libvips' global state freed (fm_init may not be called again after it). */
void fm_shutdown(void);

/* libvips with no implicit module loading (see fm_image_no_implicit_modules), untrusted
 * loaders blocked, no operation cache, one thread, no ORC, quiet logs. Idempotent. */
int fm_image_init(char *err, size_t errlen);
void fm_image_shutdown(void);
/* Make vips_init load no module from its directory (it loads all of them: ImageMagick,
 * poppler, OpenSlide, ...): sets VIPSHOME. Call before any thread starts if you can (setenv);
 * fm_image_init calls it too and does nothing when it is already set. */
void fm_image_no_implicit_modules(void);
/* Load libvips' module vips-NAME.so from l->vips_module_dir once per process, if NAME is in
 * l->vips_modules. 0, or -1 with err. */
int fm_image_module(const char *name, const fm_limits_t *l, char *err, size_t errlen);
/* FFmpeg logging quiet. */
void fm_av_init(void);

/* ---- images ---- */
typedef struct fm_image_info {
    int width, height, pages, bands;
    char loader[32];         /* libvips loader nickname, e.g. "jpegload" */
    char interpretation[32]; /* colour space, e.g. "srgb" */
} fm_image_info_t;

typedef struct fm_thumb {
    int box; /* the requested box (600, 300, 150) */
    int width, height;
    void *data; /* encoded JPEG or WebP, freed by fm_thumbs_clear (malloc'ed here or by GLib,
                 * whose g_malloc is malloc since 2.46) */
    size_t len;
} fm_thumb_t;

/* Header only: the loader must be an allowed one and the image within the limits. Nothing is
 * decoded. 0, or -1 with a message naming the limit. */
int fm_image_check_file(const char *path, const fm_limits_t *l, fm_image_info_t *info, char *err,
                        size_t errlen);
int fm_image_check_buffer(const void *buf, size_t len, const fm_limits_t *l, fm_image_info_t *info,
                          char *err, size_t errlen);
/* Check, then decode once with shrink-on-load into the largest box (orientation applied,
 * sRGB, first frame), derive the smaller boxes from it, encode without metadata. A JPEG is
 * decoded at the smallest DCT scale (1/2, 1/4, 1/8: fm_jpeg_shrink) that still covers the
 * box: vips_thumbnail would stop one scale earlier, holding four times the pixels. */
int fm_thumbs_file(const char *path, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                   fm_image_info_t *info, char *err, size_t errlen);
int fm_thumbs_buffer(const void *buf, size_t len, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                     fm_image_info_t *info, char *err, size_t errlen);
void fm_thumbs_clear(fm_thumb_t out[FM_NSIZES]);
/* The JPEG decode scale for a box: the largest of 8, 4, 2, 1 whose scaled long side is still at
 * least box pixels. */
int fm_jpeg_shrink(int width, int height, int box);
/* Thumbnails of packed RGB24 pixels (a video poster frame). */
int fm_thumbs_rgb(const uint8_t *rgb, int width, int height, size_t stride, const fm_limits_t *l,
                  fm_thumb_t out[FM_NSIZES], char *err, size_t errlen);
/* ---- JPEG thumbnails without libvips (media_jpeg.c, media_scale.c, media_jpegenc.c) ---- */
/* A progressive JPEG with more scans than this is refused ("JPEG with more than 100 scans is
 * not decoded"): each scan is a pass over the whole image; real files have about 10. */
#define FM_JPEG_MAX_SCANS 100
/* fm_thumbs_file's JPEG thumbnails with libjpeg-turbo alone: 8-bit baseline or progressive
 * Huffman, grey or YCbCr/RGB, decoded at 1/fm_jpeg_shrink, Lanczos3 into the largest box as
 * rows arrive, EXIF orientation applied, the smaller boxes derived, encoded without metadata;
 * info as libvips gives it. 1 when made; 0 when not handled (not a JPEG, WebP output, another
 * variant, or any libjpeg error or warning: the caller goes to libvips, which decides and words
 * the failure); -1 with err (a limit, the scan limit, out of memory). */
int fm_jpeg_thumbs_file(const char *path, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                        fm_image_info_t *info, char *err, size_t errlen);
int fm_jpeg_thumbs_buffer(const void *buf, size_t len, const fm_limits_t *l,
                          fm_thumb_t out[FM_NSIZES], fm_image_info_t *info, char *err,
                          size_t errlen);
/* fm_thumbs_rgb without libvips, JPEG output only (the caller keeps WebP for libvips). */
int fm_rgb_thumbs(const uint8_t *rgb, int width, int height, size_t stride, const fm_limits_t *l,
                  fm_thumb_t out[FM_NSIZES], char *err, size_t errlen);
/* The three thumbnails from packed RGB8 already fitted to the largest box: each box resized
 * from it (fm_fit_derived) and encoded. 0, or -1 with err (out cleared). */
int fm_thumbs_derive(const uint8_t *big, int w, int h, const fm_limits_t *l,
                     fm_thumb_t out[FM_NSIZES], char *err, size_t errlen);
/* RGB8 (w x h, packed) to a JPEG in malloc'ed memory at quality 1..100, 4:2:0 below 90, no
 * JFIF/EXIF/ICC marker. 0, or -1. */
int fm_jpeg_encode(const uint8_t *rgb, int w, int h, int quality, void **out, size_t *len);
/* w x h fitted into box, never enlarged: vips_thumbnail's arithmetic (the largest box: one
 * shrink for both axes, 1.0 for an axis left as it is) and media_image.c derive()'s (the
 * smaller ones: long side exactly the box). */
void fm_fit_box(int w, int h, int box, int *ow, int *oh, double *hshrink, double *vshrink);
void fm_fit_derived(int w, int h, int box, int *ow, int *oh);
/* Separable Lanczos3 downsizing of packed 8-bit pixels (1..4 channels), fed a row at a time:
 * only the rows the vertical kernel spans are held. A shrink <= 0 means in / out (fm_resize
 * always). NULL when out is larger than in. */
typedef struct fm_resizer fm_resizer_t;
fm_resizer_t *fm_resizer_new(int in_w, int in_h, int out_w, int out_h, double hshrink,
                             double vshrink, int channels);
int fm_resizer_row(fm_resizer_t *r, const uint8_t *row); /* in_w pixels, top to bottom */
uint8_t *fm_resizer_finish(fm_resizer_t *r);             /* the result (malloc'ed), once */
void fm_resizer_free(fm_resizer_t *r);
uint8_t *fm_resize(const uint8_t *in, int w, int h, size_t stride, int channels, int ow, int oh);
/* EXIF orientation 1..8 applied as vips_autorot does (malloc'ed; *ow x *oh). */
uint8_t *fm_orient(const uint8_t *in, int w, int h, int channels, int orientation, int *ow,
                   int *oh);
uint8_t *fm_grey_to_rgb(const uint8_t *g, int w, int h);
const char *fm_thumb_ext(const fm_limits_t *l);
const char *fm_thumb_mime(const fm_limits_t *l);

/* BMP through our own decoder (libvips has it only through ImageMagick, which is blocked):
 * uncompressed 1/4/8/16/24/32-bit, alpha composed over white; RLE/JPEG/PNG inside refused.
 * fm_bmp_check reads the header (n bytes of a file of `size` bytes); fm_bmp_thumbs decodes the
 * whole file in p with block averaging, never at full size. */
bool fm_is_bmp(const uint8_t *p, size_t n);
int fm_bmp_check(const uint8_t *p, size_t n, uint64_t size, const fm_limits_t *l,
                 fm_image_info_t *info, char *err, size_t errlen);
int fm_bmp_thumbs(const uint8_t *p, size_t n, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                  fm_image_info_t *info, char *err, size_t errlen);

/* The image members of the metadata document from info: width, height, pages, bands,
 * colour_space (info->interpretation), format (the loader's name before "load") and has_alpha.
 * One writer for libvips' answer, the BMP reader's and the header reader's. */
void fm_image_json(json_t *image, const fm_image_info_t *info, bool has_alpha);
/* Image facts for the metadata document (header only), plus the EXIF blob if any. */
int fm_image_meta_file(const char *path, const fm_limits_t *l, json_t *image, void **exif,
                       size_t *exif_len, char *err, size_t errlen);
/* JPEG and PNG facts from the first n bytes of a file of file_size bytes, without libvips: the
 * same members fm_image_meta_file sets (width, height, pages, bands, colour_space, format,
 * has_alpha) into image, and the EXIF payload, pointing into p, in *exif / *exif_len (NULL, 0
 * when there is none). 1 when handled; 0 when it leaves the file to fm_image_meta_file (not
 * JPEG or PNG, the header not complete within n bytes, a variant it does not read); -1 with err
 * when the header breaks a limit, with the messages fm_image_meta_file gives. */
int fm_header_image(const uint8_t *p, size_t n, uint64_t file_size, const fm_limits_t *l,
                    json_t *image, const uint8_t **exif, size_t *exif_len, char *err,
                    size_t errlen);
/* The limits every image path applies, one wording for all (media_limits.c): the file's size
 * ("empty file", "image file too large") and the header's dimensions and frames. 0, or -1 with
 * err. */
int fm_check_image_bytes(uint64_t n, const fm_limits_t *l, char *err, size_t errlen);
int fm_check_image_size(int w, int h, int pages, const fm_limits_t *l, char *err, size_t errlen);
/* A decoded video frame's size, before it is made into thumbnails (both thumbnail paths). */
int fm_check_frame(int w, int h, const fm_limits_t *l, char *err, size_t errlen);

/* ---- EXIF (libexif) ---- */
/* Camera, lens, date taken, exposure, ISO, focal length, orientation, GPS as numbers; NULL when
 * the blob holds no EXIF. Accepts an APP1 payload with or without the "Exif\0\0" header. */
json_t *fm_exif_parse(const void *blob, size_t len);

/* ---- PDF (our own bounded reader; poppler is untrusted and blocked) ---- */
/* version, encrypted, pages (the page tree's /Count) and the /Info strings (title, author,
 * subject, keywords, creator, producer, created, modified; dates as ISO 8601) into out. Objects
 * are found by header or in Flate object streams (8 MiB inflated at most); nothing rendered.
 * 0, or -1 with err when there is no trailer or page tree. */
int fm_pdf_meta(const void *data, size_t len, json_t *out, char *err, size_t errlen);

/* ---- audio and video (FFmpeg through our own I/O) ---- */
typedef struct fm_av_poster {
    fm_thumb_t thumbs[FM_NSIZES];
    double at_s; /* where the frame was taken */
    bool have;
} fm_av_poster_t;

/* Open the file through a custom AVIOContext with the format allow-list, bounded probing,
 * stream cap and deadline; fill `out` with duration, container, bit rate, streams and tags.
 * With poster non-NULL, also decode the poster frame (10 % of the duration, or 1 s when it is
 * unknown) and make thumbnails of it. */
int fm_av_probe_file(const char *path, const fm_limits_t *l, json_t *out, fm_av_poster_t *poster,
                     char *err, size_t errlen);
int fm_av_probe_buffer(const void *buf, size_t len, const fm_limits_t *l, json_t *out, char *err,
                       size_t errlen);

/* ---- the metadata document ---- */
/* SHA-256 of a stream, libcrypto opened on first use (media_sha256.c). NULL when libcrypto
 * cannot be opened. */
typedef struct fm_sha256 fm_sha256_t;
fm_sha256_t *fm_sha256_new(void);
int fm_sha256_update(fm_sha256_t *h, const void *d, size_t n);
/* The digest as 64 lowercase hex digits; h may then only be freed. 0, or -1. */
int fm_sha256_hex(fm_sha256_t *h, char hex[65]);
void fm_sha256_free(fm_sha256_t *h);

/* MIME type from the first bytes (up to 64 read); never from the name. */
/* Open path read-only if it is a regular file reached without following a link; the fd, or -1.
 * st gets its status. */
struct stat;
int fm_open_regular(const char *path, struct stat *st);

const char *fm_sniff(const uint8_t *p, size_t n);
bool fm_mime_is_image(const char *mime);
bool fm_mime_is_av(const char *mime);
/* Size, sniffed MIME, SHA-256, then image/EXIF or audio/video facts. Failures of the inner
 * parts are recorded in the document ("errors"), not fatal, except an unreadable file. With
 * sha256 (64 hex digits: the checksum the server computed at upload) the file is not hashed
 * again; NULL hashes it. */
int fm_metadata_file(const char *path, const char *sha256, const fm_limits_t *l, json_t **out,
                     char *err, size_t errlen);
/* How many bytes of a file the metadata job fetches first: enough for the JPEG/PNG headers
 * fm_header_image reads, EXIF included (an APP1 segment is at most 64 KiB). */
#define FM_META_HEAD_BYTES ((size_t)128 * 1024)
/* The document from p, the first n bytes of a file of `size` bytes, when they are enough: the
 * checksum is known (sha256 non-NULL), n is the whole head (min(size, FM_META_HEAD_BYTES)) and
 * the file's facts need no more than its header (JPEG/PNG through fm_header_image, or a type
 * with nothing beyond size and MIME type). 1 with *out; 0 when the whole file is needed (then
 * fm_metadata_file); -1 with err when the document cannot be made. */
int fm_metadata_head(const uint8_t *p, size_t n, uint64_t size, const char *sha256,
                     const fm_limits_t *l, json_t **out, char *err, size_t errlen);
/* Strings valid UTF-8 without control characters (tab/newline kept), each at most max_str
 * bytes; the whole document bounded by max_bytes (largest strings dropped first). */
void fm_json_clean(json_t *doc, size_t max_str);
int fm_json_bound(json_t *doc, size_t max_bytes);
/* Copy s as valid UTF-8 without control characters, at most cap-1 bytes, into dst. */
void fm_text_clean(const char *s, size_t n, char *dst, size_t cap);
/* Valid UTF-8 without NUL or controls other than tab, CR, LF, FF (a sequence cut at the end
 * is allowed): what we call text when sniffing. */
bool fm_is_text(const uint8_t *p, size_t n);

/* ---- one job's processing: the job plugin, its tests and fuzzers ---- */
typedef enum fm_kind { FM_THUMBNAIL, FM_METADATA, FM_VIDEO, FM_AUDIO } fm_kind_t;

typedef struct fm_output {
    json_t *result;     /* the processing job's result_data */
    json_t *file_patch; /* merged into the file: metadata, exif_data, dimensions */
    fm_thumb_t thumbs[FM_NSIZES];
    const char *derivative_kind; /* "thumbnail" or "poster" when thumbs are set, else NULL */
} fm_output_t;

/* Size names of the boxes, largest first: "large", "medium", "small". */
extern const char *const fm_size_names[FM_NSIZES];
int fm_process(fm_kind_t kind, const char *path, const fm_limits_t *l, fm_output_t *out, char *err,
               size_t errlen);
/* A metadata job's output from its document (taken over: result, and the file's metadata,
 * exif_data and dimensions). */
void fm_metadata_output(json_t *doc, fm_output_t *o);
void fm_output_clear(fm_output_t *out);

#endif
