/* files-image.so: the image backend of the job plugin (libvips, our BMP decoder). */
#include "backend.h"

static const fb_image_t table = {.abi = FB_ABI,
                                 .init = fm_image_init,
                                 .shutdown = fm_image_shutdown,
                                 .thumbs_file = fm_thumbs_file,
                                 .meta_file = fm_image_meta_file,
                                 .thumbs_rgb = fm_thumbs_rgb};

__attribute__((visibility("default"))) const fb_image_t *
fb_image_entry(void)
{
    return &table;
}
