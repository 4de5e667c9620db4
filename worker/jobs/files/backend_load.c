/* In the job plugin: the image and audio/video entry points of media.h, loading their backend
 * (backend.h) on first use. A thumbnail job never maps FFmpeg, an audio job never maps
 * libvips, and the worker's parent process maps neither. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

static char dir[PATH_MAX];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const fb_image_t *image_be;
static const fb_av_t *av;

static int
path_of(const char *name, char *out, size_t cap)
{
    return snprintf(out, cap, "%s/files/%s", dir, name) < (int)cap ? 0 : -1;
}

int
fb_setup(char *err, size_t errlen)
{
    Dl_info di;
    char self[PATH_MAX];
    if (!dladdr((void *)(uintptr_t)fb_setup, &di) || !di.dli_fname ||
        !realpath(di.dli_fname, self)) {
        (void)snprintf(err, errlen, "cannot tell where the plugin was loaded from");
        return -1;
    }
    char *slash = strrchr(self, '/');
    *slash = '\0';
    (void)snprintf(dir, sizeof dir, "%s", self); /* both PATH_MAX: always fits */
    static const char *const names[] = {"files-image.so", "files-av.so"};
    for (size_t i = 0; i < 2; i++) {
        char p[PATH_MAX];
        if (path_of(names[i], p, sizeof p) || access(p, R_OK) != 0) {
            (void)snprintf(err, errlen, "backend %s/files/%s is missing", dir, names[i]);
            return -1;
        }
    }
    fm_image_no_implicit_modules(); /* now, before any thread: it is a setenv */
    return 0;
}

static void *
open_backend(const char *name, const char *entry, char *err, size_t errlen)
{
    char p[PATH_MAX];
    if (path_of(name, p, sizeof p)) {
        (void)snprintf(err, errlen, "backend path too long");
        return NULL;
    }
    void *dl = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    void *fn = dl ? dlsym(dl, entry) : NULL;
    if (!fn) {
        char why[200];
        const char *e = dlerror();
        fm_text_clean(e ? e : "no entry", e ? strlen(e) : 8, why, sizeof why);
        (void)snprintf(err, errlen, "cannot load the backend %s: %s", name, why);
        if (dl)
            dlclose(dl);
    }
    /* Never unloaded: libvips and GLib register types that cannot go away. */
    return fn;
}

static const fb_image_t *
need_image(char *err, size_t errlen)
{
    pthread_mutex_lock(&mu);
    if (!image_be) {
        const fb_image_t *(*entry)(void);
        *(void **)&entry = open_backend("files-image.so", FB_IMAGE_ENTRY, err, errlen);
        const fb_image_t *t = entry ? entry() : NULL;
        if (t && t->abi != FB_ABI)
            (void)snprintf(err, errlen, "backend files-image.so is from another build");
        else if (t && t->init(err, errlen) == 0)
            image_be = t;
    }
    pthread_mutex_unlock(&mu);
    return image_be;
}

/* A poster frame: JPEG thumbnails resized and encoded here (media_scale.c, media_jpegenc.c), so
 * a video job maps no libvips; WebP through the image backend. */
static int
thumbs_rgb(const uint8_t *rgb, int width, int height, size_t stride, const fm_limits_t *l,
           fm_thumb_t out[FM_NSIZES], char *err, size_t errlen)
{
    if (!l->webp)
        return fm_rgb_thumbs(rgb, width, height, stride, l, out, err, errlen);
    const fb_image_t *t = need_image(err, errlen);
    return t ? t->thumbs_rgb(rgb, width, height, stride, l, out, err, errlen) : FM_EBACKEND;
}

static const fb_av_t *
need_av(char *err, size_t errlen)
{
    pthread_mutex_lock(&mu);
    if (!av) {
        const fb_av_t *(*entry)(fb_thumbs_rgb_fn);
        *(void **)&entry = open_backend("files-av.so", FB_AV_ENTRY, err, errlen);
        const fb_av_t *t = entry ? entry(thumbs_rgb) : NULL;
        if (t && t->abi != FB_ABI)
            (void)snprintf(err, errlen, "backend files-av.so is from another build");
        else
            av = t;
    }
    pthread_mutex_unlock(&mu);
    return av;
}

int
fm_thumbs_file(const char *path, const fm_limits_t *l, fm_thumb_t out[FM_NSIZES],
               fm_image_info_t *info, char *err, size_t errlen)
{
    /* A plain JPEG with libjpeg alone (media_jpeg.c): no libvips loaded, ~25 MiB less and no
     * ~50 ms load in the job's child. Other variants, damaged files and WebP output: libvips,
     * with its own messages. */
    int rc = fm_jpeg_thumbs_file(path, l, out, info, err, errlen);
    if (rc != 0)
        return rc == 1 ? 0 : -1;
    const fb_image_t *t = need_image(err, errlen);
    return t ? t->thumbs_file(path, l, out, info, err, errlen) : FM_EBACKEND;
}

int
fm_image_meta_file(const char *path, const fm_limits_t *l, json_t *image, void **exif,
                   size_t *exif_len, char *err, size_t errlen)
{
    *exif = NULL, *exif_len = 0;
    const fb_image_t *t = need_image(err, errlen);
    return t ? t->meta_file(path, l, image, exif, exif_len, err, errlen) : FM_EBACKEND;
}

int
fm_av_probe_file(const char *path, const fm_limits_t *l, json_t *out, fm_av_poster_t *poster,
                 char *err, size_t errlen)
{
    if (poster)
        memset(poster, 0, sizeof *poster);
    const fb_av_t *t = need_av(err, errlen);
    return t ? t->probe_file(path, l, out, poster, err, errlen) : FM_EBACKEND;
}

void
fb_shutdown(void)
{
    if (image_be)
        image_be->shutdown();
}
