/* files-av.so: the audio/video backend of the job plugin (FFmpeg). Poster thumbnails go back
 * through the plugin, which loads the image backend for them. */
#include "backend.h"

static fb_thumbs_rgb_fn rgb_thumbs;

int
fm_thumbs_rgb(const uint8_t *rgb, int width, int height, size_t stride, const fm_limits_t *l,
              fm_thumb_t out[FM_NSIZES], char *err, size_t errlen)
{
    return rgb_thumbs(rgb, width, height, stride, l, out, err, errlen);
}

static const fb_av_t table = {.abi = FB_ABI, .probe_file = fm_av_probe_file};

__attribute__((visibility("default"))) const fb_av_t *
fb_av_entry(fb_thumbs_rgb_fn thumbs_rgb)
{
    rgb_thumbs = thumbs_rgb;
    fm_av_init();
    return &table;
}
