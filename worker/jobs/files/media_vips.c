/* libvips set-up for untrusted images: no module is loaded implicitly (vips_init would load
 * every one in its module directory: ImageMagick, poppler, OpenSlide, ...); the few we allow are
 * loaded by name when a sniffed format needs them. */
#include <gmodule.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>
/* after vips.h, which it needs */
#include <vips/vector.h>

#include "media.h"

/* Loader warnings (a truncated tile, ...) are reported as the job's error; not on stderr. */
static void
quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer ud)
{
    (void)domain, (void)level, (void)msg, (void)ud;
}

static GMutex mu;
static bool ready;

int
fm_image_init(char *err, size_t errlen)
{
    g_mutex_lock(&mu);
    if (ready) {
        g_mutex_unlock(&mu);
        return 0;
    }
    fm_image_no_implicit_modules();
    /* One malloc arena: libvips' worker threads would each get their own (64 MiB of address
     * space apiece, counted by the isolated child's RLIMIT_AS) and spread a batch's heap over
     * them; measured (bench/media): 20 thumbnails in one process peak at 37 MiB instead of
     * 44-50, one in a child at 34 instead of 35.7, no CPU cost seen (one vips thread). The
     * whole process is affected: in production that is the job's isolated child. */
    mallopt(M_ARENA_MAX, 1);
    if (VIPS_INIT("powernode-files")) {
        (void)snprintf(err, errlen, "libvips: %s", vips_error_buffer());
        vips_error_clear();
        g_mutex_unlock(&mu);
        return -1;
    }
    /* PDF, SVG, FITS, Matlab, ... are marked untrusted by libvips: never used. */
    vips_block_untrusted_set(TRUE);
    /* Jobs are independent: caching operations only keeps other jobs' pixels alive. */
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    /* No ORC run-time code generation: liborc writes its JIT code to an executable temporary
     * file in $HOME or $TMPDIR (outside the job's directory, seen under strace) and maps it. */
    vips_vector_set_enabled(FALSE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, quiet, NULL);
    ready = true;
    g_mutex_unlock(&mu);
    return 0;
}

void
fm_image_shutdown(void)
{
    if (ready)
        vips_shutdown();
}

/* Is name in the comma-separated list? */
static bool
listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, name, n))
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

int
fm_image_module(const char *name, const fm_limits_t *l, char *err, size_t errlen)
{
    static char loaded[128];
    if (!listed(l->vips_modules, name)) {
        (void)snprintf(err, errlen,
                       "the libvips %s module is not enabled (job_plugins.files.vips_modules)",
                       name);
        return -1;
    }
    g_mutex_lock(&mu);
    if (listed(loaded, name)) {
        g_mutex_unlock(&mu);
        return 0;
    }
    char path[600];
    if (snprintf(path, sizeof path, "%s/vips-%s.%s", l->vips_module_dir, name, G_MODULE_SUFFIX) >=
        (int)sizeof path) {
        g_mutex_unlock(&mu);
        (void)snprintf(err, errlen, "the libvips %s module's path is too long", name);
        return -1;
    }
    /* What vips_init does with each module it finds; its types stay registered for good. */
    GModule *m = g_module_open(path, G_MODULE_BIND_LAZY);
    if (!m) {
        char why[160];
        const char *e = g_module_error();
        fm_text_clean(e ? e : "", e ? strlen(e) : 0, why, sizeof why);
        g_mutex_unlock(&mu);
        (void)snprintf(err, errlen, "cannot load the libvips %s module: %s", name, why);
        return -1;
    }
    g_module_make_resident(m);
    /* Blocking applies to the classes that exist: again, after new ones were registered. */
    vips_block_untrusted_set(TRUE);
    /* A cut name could read as another module's: one that does not fit is not recorded (and is
     * opened again next time, which g_module_open counts). */
    size_t n = strlen(loaded);
    if (n + 1 + strlen(name) < sizeof loaded)
        (void)snprintf(loaded + n, sizeof loaded - n, "%s%s", n ? "," : "", name);
    g_mutex_unlock(&mu);
    return 0;
}
