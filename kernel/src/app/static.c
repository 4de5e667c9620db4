/*
 * Serves the built web UI (frontend/dist) for non-API paths: content types, ETag and
 * If-None-Match, precompressed .gz files, and the single-page-app fallback to index.html.
 * Only files below the UI folder are ever opened: dot segments, dotfiles and backslashes are
 * refused before any path is built, and symlinks are not followed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "request.h"

static const struct {
    const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"webmanifest", "application/manifest+json"},
    {"wasm", "application/wasm"},
};

static const char *
content_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');

    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Every segment must be a plain name: no "", ".", "..", dotfiles, backslashes or control
 * characters. The path is already percent-decoded, so "%2e%2e" arrives here as "..". */
static bool
safe_path(const char *path)
{
    if (path[0] != '/')
        return false;
    for (const char *seg = path + 1; *seg;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 && seg[n] == '/')
            return false;
        if (n > 0 && seg[0] == '.')
            return false;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == '\\' || seg[i] == 0x7f)
                return false;
        seg += n;
        if (*seg == '/')
            seg++;
    }
    return strlen(path) < 1024;
}

static bool
accepts_gzip(pn_req_t *req)
{
    const char *ae = pnk_req_header(req, "Accept-Encoding");
    const char *g = ae ? strcasestr(ae, "gzip") : NULL;

    return g && strncmp(g + 4, ";q=0", 4) != 0 && strncmp(g + 4, "; q=0", 5) != 0;
}

static bool
etag_matches(const char *inm, const char *etag)
{
    size_t el = strlen(etag);

    if (inm == NULL)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, el) == 0 && (p[el] == '\0' || p[el] == ',' || p[el] == ' '))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static int
open_file(const char *rel, struct stat *st)
{
    char path[2048];

    (void)snprintf(path, sizeof path, "%s%s", pnk_app.ui_dir, rel);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

int
pnk_static_serve(pn_req_t *req)
{
    const char *rel = req->http->path;
    struct stat st;
    int fd = -1;
    bool gz = false;
    char etag[96];

    if (!safe_path(rel))
        return pnk_fail(req, PN_E_NOTFOUND, "not found");
    if (strcmp(rel, "/") == 0)
        rel = "/index.html";
    if (accepts_gzip(req)) {
        char *gzrel = pnk_req_printf(req, "%s.gz", rel);
        if (gzrel && (fd = open_file(gzrel, &st)) >= 0)
            gz = true;
    }
    if (fd < 0)
        fd = open_file(rel, &st);
    if (fd < 0) {
        const char *last = strrchr(rel, '/');
        /* Client-side routes (no file extension) get the app shell; missing assets get 404. */
        if (last && strchr(last, '.') == NULL) {
            rel = "/index.html";
            fd = open_file(rel, &st);
        }
        if (fd < 0)
            return pnk_fail(req, PN_E_NOTFOUND, "not found");
    }
    (void)snprintf(etag, sizeof etag, "\"%llx-%llx%s\"", (unsigned long long)st.st_size,
                   (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                       (unsigned long long)st.st_mtim.tv_nsec,
                   gz ? "-gz" : "");
    (void)pnk_reply_header(req, "ETag", etag);
    (void)pnk_reply_header(req, "Vary", "Accept-Encoding");
    (void)pnk_reply_header(req, "X-Content-Type-Options", "nosniff");
    if (strncmp(rel, "/assets/", 8) == 0)
        (void)pnk_reply_header(req, "Cache-Control", "public, max-age=31536000, immutable");
    else
        (void)pnk_reply_header(req, "Cache-Control", "no-cache");
    if (strcmp(content_type(rel), types[0].type) == 0) {
        (void)pnk_reply_header(req, "Content-Security-Policy",
                               "default-src 'self'; img-src 'self' data: blob:; style-src 'self' "
                               "'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri "
                               "'self'; frame-ancestors 'none'");
        (void)pnk_reply_header(req, "X-Frame-Options", "DENY");
    }
    if (etag_matches(pnk_req_header(req, "If-None-Match"), etag)) {
        close(fd);
        return pnk_reply_raw(req, 304, NULL, NULL, 0);
    }
    if (gz)
        (void)pnk_reply_header(req, "Content-Encoding", "gzip");
    (void)pnk_reply_header(req, "Content-Type", content_type(rel));
    req->replied = true;
    req->resp->status = 200;
    req->resp->fd = fd;
    req->resp->file_offset = 0;
    req->resp->file_len = (size_t)st.st_size;
    return PN_OK;
}
