/* The image members of the metadata document, written one way for every reader (libvips, our
 * BMP reader, our JPEG/PNG header reader). Its own file: the image backend links it without the
 * metadata document's code, which calls back into the plugin. */
#include <string.h>

#include "media.h"

void
fm_image_json(json_t *image, const fm_image_info_t *info, bool has_alpha)
{
    json_object_set_new(image, "width", json_integer(info->width));
    json_object_set_new(image, "height", json_integer(info->height));
    json_object_set_new(image, "pages", json_integer(info->pages));
    json_object_set_new(image, "bands", json_integer(info->bands));
    json_object_set_new(image, "colour_space", json_string(info->interpretation));
    json_object_set_new(image, "format", json_stringn(info->loader, strcspn(info->loader, "l")));
    json_object_set_new(image, "has_alpha", json_boolean(has_alpha));
}
