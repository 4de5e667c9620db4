/* One job's processing on a local file: what to upload (thumbnails or poster), what to merge
 * into the file row, and the job's result. Only the plugin calls it (locally: powernode-worker
 * --run). */
#include <stdio.h>
#include <string.h>

#include "media.h"

const char *const fm_size_names[FM_NSIZES] = {"large", "medium", "small"};

void
fm_output_clear(fm_output_t *o)
{
    json_decref(o->result);
    json_decref(o->file_patch);
    fm_thumbs_clear(o->thumbs);
    memset(o, 0, sizeof *o);
}

static json_t *
thumbs_json(const fm_output_t *o, const fm_limits_t *l)
{
    json_t *a = json_array();
    for (int i = 0; i < FM_NSIZES; i++)
        if (o->thumbs[i].data)
            json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:i, s:I, s:s}", "size",
                                               fm_size_names[i], "box", o->thumbs[i].box, "width",
                                               o->thumbs[i].width, "height", o->thumbs[i].height,
                                               "bytes", (json_int_t)o->thumbs[i].len,
                                               "content_type", fm_thumb_mime(l)));
    return a;
}

static int
thumbnail(const char *path, const fm_limits_t *l, fm_output_t *o, char *err, size_t errlen)
{
    fm_image_info_t info;
    int rc = fm_thumbs_file(path, l, o->thumbs, &info, err, errlen);
    if (rc)
        return rc;
    o->derivative_kind = "thumbnail";
    o->result = json_pack("{s:o, s:{s:i, s:i, s:s, s:i}}", "thumbnails", thumbs_json(o, l),
                          "source", "width", info.width, "height", info.height, "loader",
                          info.loader, "pages", info.pages);
    o->file_patch =
        json_pack("{s:{s:i, s:i}}", "dimensions", "width", info.width, "height", info.height);
    return 0;
}

void
fm_metadata_output(json_t *doc, fm_output_t *o)
{
    memset(o, 0, sizeof *o);
    o->file_patch = json_pack("{s:O}", "metadata", doc);
    json_t *img = json_object_get(doc, "image"), *ex = json_object_get(doc, "exif");
    if (ex)
        json_object_set(o->file_patch, "exif_data", ex);
    if (img)
        json_object_set_new(o->file_patch, "dimensions",
                            json_pack("{s:O, s:O}", "width", json_object_get(img, "width"),
                                      "height", json_object_get(img, "height")));
    o->result = doc;
}

static int
metadata(const char *path, const fm_limits_t *l, fm_output_t *o, char *err, size_t errlen)
{
    json_t *doc;
    int rc = fm_metadata_file(path, NULL, l, &doc, err, errlen);
    if (rc)
        return rc;
    fm_metadata_output(doc, o);
    return 0;
}

static int
media(bool video, const char *path, const fm_limits_t *l, fm_output_t *o, char *err, size_t errlen)
{
    json_t *av = json_object();
    fm_av_poster_t po = {0};
    int rc = fm_av_probe_file(path, l, av, video ? &po : NULL, err, errlen);
    if (rc) {
        json_decref(av);
        return rc;
    }
    if (!json_object_get(av, video ? "video" : "audio")) {
        json_decref(av);
        fm_thumbs_clear(po.thumbs);
        (void)snprintf(err, errlen, "no %s stream", video ? "video" : "audio");
        return -1;
    }
    fm_json_clean(av, 1024);
    if (video && po.have) {
        memcpy(o->thumbs, po.thumbs, sizeof o->thumbs);
        o->derivative_kind = "poster";
        json_object_set_new(av, "poster",
                            json_pack("{s:f, s:o}", "at", po.at_s, "sizes", thumbs_json(o, l)));
    }
    o->file_patch = json_pack("{s:{s:O}}", "metadata", video ? "video" : "audio", av);
    json_t *v = json_object_get(av, "video");
    if (v)
        json_object_set_new(o->file_patch, "dimensions",
                            json_pack("{s:O, s:O}", "width", json_object_get(v, "width"), "height",
                                      json_object_get(v, "height")));
    o->result = av;
    return 0;
}

int
fm_process(fm_kind_t kind, const char *path, const fm_limits_t *l, fm_output_t *out, char *err,
           size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc;
    switch (kind) {
    case FM_THUMBNAIL:
        rc = thumbnail(path, l, out, err, errlen);
        break;
    case FM_METADATA:
        rc = metadata(path, l, out, err, errlen);
        break;
    case FM_VIDEO:
        rc = media(true, path, l, out, err, errlen);
        break;
    default:
        rc = media(false, path, l, out, err, errlen);
        break;
    }
    if (rc)
        fm_output_clear(out);
    return rc;
}
