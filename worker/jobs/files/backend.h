/* The job plugin's two backends, shared objects loaded with dlopen the first time a job needs
 * them, so a process maps only the libraries its jobs use: files-image.so (libvips) and
 * files-av.so (FFmpeg). Each exports one entry returning its table. */
#ifndef FM_BACKEND_H
#define FM_BACKEND_H

#include "media.h"

#define FB_ABI 1
#define FB_IMAGE_ENTRY "fb_image_entry"
#define FB_AV_ENTRY "fb_av_entry"

typedef int (*fb_thumbs_rgb_fn)(const uint8_t *rgb, int width, int height, size_t stride,
                                const fm_limits_t *l, fm_thumb_t out[FM_NSIZES], char *err,
                                size_t errlen);

typedef struct fb_image {
    int abi;
    int (*init)(char *err, size_t errlen);
    void (*shutdown)(void);
    int (*thumbs_file)(const char *path, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
                       fm_image_info_t *info, char *err, size_t errlen);
    int (*meta_file)(const char *path, const fm_limits_t *l, json_t *image, void **exif,
                     size_t *exif_len, char *err, size_t errlen);
    fb_thumbs_rgb_fn thumbs_rgb;
} fb_image_t;

typedef struct fb_av {
    int abi;
    int (*probe_file)(const char *path, const fm_limits_t *l, json_t *out, fm_av_poster_t *poster,
                      char *err, size_t errlen);
} fb_av_t;

/* The exported entries (default visibility in the backends). The audio/video backend makes
 * poster thumbnails through thumbs_rgb, which loads the image backend only then. */
const fb_image_t *fb_image_entry(void);
const fb_av_t *fb_av_entry(fb_thumbs_rgb_fn thumbs_rgb);

/* In the job plugin: find the backends next to the plugin (<dir>/files/), check they are
 * there, and keep libvips from loading modules implicitly. 0, or -1 with err. */
int fb_setup(char *err, size_t errlen);
void fb_shutdown(void);

#endif
