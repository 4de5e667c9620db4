/* pn-media: the files job plugin's processing on local files, without Redis or a server. Writes
 * what the job would upload (thumbnails, poster) and a JSON document per file; used by people
 * and by bench/media. Stands in for `powernode-worker --run` until the worker has it. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "media.h"

static void
usage(void)
{
    fprintf(stderr, "usage: pn-media --run thumbnail|metadata|video|audio [--out DIR] "
                    "[--set key=value]... (--file PATH | PATH)...\n");
}

static int
write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wbx");
    if (!f && errno == EEXIST && remove(path) == 0)
        f = fopen(path, "wbx");
    if (!f)
        return -1;
    int ok = fwrite(p, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static int
one(fm_kind_t kind, const char *path, const char *outdir, const fm_limits_t *l)
{
    char err[FM_ERRLEN] = "", base[NAME_MAX + 1], dst[PATH_MAX];
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(base, sizeof base, "%s", basename(tmp));
    fm_output_t o;
    int rc = fm_process(kind, path, l, &o, err, sizeof err);
    json_t *doc = rc ? json_pack("{s:s, s:s}", "file", path, "error", err)
                     : json_pack("{s:s, s:O, s:O}", "file", path, "result", o.result, "file_patch",
                                 o.file_patch);
    if (rc)
        fprintf(stderr, "pn-media: %s: %s\n", path, err);
    if (outdir) {
        for (int i = 0; rc == 0 && i < FM_NSIZES; i++) {
            if (!o.thumbs[i].data)
                continue;
            snprintf(dst, sizeof dst, "%s/%s.%s.%s.%s", outdir, base, o.derivative_kind,
                     fm_size_names[i], fm_thumb_ext(l));
            if (write_file(dst, o.thumbs[i].data, o.thumbs[i].len)) {
                fprintf(stderr, "pn-media: %s: %s\n", dst, strerror(errno));
                rc = -1;
            }
        }
        snprintf(dst, sizeof dst, "%s/%s.json", outdir, base);
        if (json_dump_file(doc, dst, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
            fprintf(stderr, "pn-media: %s: cannot write\n", dst);
            rc = -1;
        }
    } else {
        json_dumpf(doc, stdout, JSON_COMPACT | JSON_SORT_KEYS);
        fputc('\n', stdout);
    }
    json_decref(doc);
    if (rc == 0)
        fm_output_clear(&o);
    return rc;
}

int
main(int argc, char **argv)
{
    fm_limits_t l;
    fm_limits_default(&l);
    const char *job = NULL, *outdir = NULL;
    const char **files = calloc((size_t)argc, sizeof *files);
    int nfiles = 0;
    char err[FM_ERRLEN];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--run") && i + 1 < argc)
            job = argv[++i];
        else if (!strcmp(a, "--out") && i + 1 < argc)
            outdir = argv[++i];
        else if (!strcmp(a, "--file") && i + 1 < argc)
            files[nfiles++] = argv[++i];
        else if (!strcmp(a, "--set") && i + 1 < argc) {
            char kv[256];
            snprintf(kv, sizeof kv, "%s", argv[++i]);
            char *eq = strchr(kv, '=');
            if (!eq || (*eq = 0, fm_limits_set(&l, kv, eq + 1, err, sizeof err))) {
                fprintf(stderr, "pn-media: --set %s: %s\n", argv[i], eq ? err : "key=value");
                free(files);
                return 2;
            }
        } else if (a[0] != '-')
            files[nfiles++] = a;
        else {
            usage();
            free(files);
            return 2;
        }
    }
    fm_kind_t kind;
    if (!job || fm_kind_parse(job, &kind) || nfiles == 0) {
        usage();
        free(files);
        return 2;
    }
    if (outdir && mkdir(outdir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "pn-media: %s: %s\n", outdir, strerror(errno));
        free(files);
        return 2;
    }
    if (fm_init(err, sizeof err)) {
        fprintf(stderr, "pn-media: %s\n", err);
        free(files);
        return 2;
    }
    int failed = 0;
    for (int i = 0; i < nfiles; i++)
        failed += one(kind, files[i], outdir, &l) != 0;
    free(files);
    return failed ? 1 : 0;
}
