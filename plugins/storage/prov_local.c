/*
 * Local disk provider. Every path is walked from an open root directory one component at a
 * time with O_NOFOLLOW, so a symlink planted anywhere under the root is never followed; puts
 * go to a temporary name in the target directory, are fsync'd and renamed over the old object.
 * Resumable uploads write in place into one staging file, published by link + rename.
 */
#include "st.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define IO_CHUNK PN_KIB(256)
#define XATTR_CTYPE "user.powernode.content_type"

typedef struct local {
    st_backend_t base;
    char *root;
} local_t;

static int
sys_fail(st_err_t *err, int code, const char *what, int e)
{
    return st_fail(err, code, "local storage: %s: %s", what, strerror(e));
}

/* mkdir -p for the configured root (trusted configuration, checked for '..' at creation). */
static int
make_root(const char *root, st_err_t *err)
{
    char path[4096];
    size_t n = strlen(root);

    if (n >= sizeof path)
        return st_fail(err, PN_E_INVALID, "local storage root is too long");
    memcpy(path, root, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST)
            return sys_fail(err, PN_E_UNAVAILABLE, "cannot create the storage root", errno);
        path[i] = c;
    }
    return PN_OK;
}

static int
open_root(local_t *l, bool create, int *dfd, st_err_t *err)
{
    *dfd = open(l->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*dfd < 0 && errno == ENOENT && create) {
        int rc = make_root(l->root, err);
        if (rc != PN_OK)
            return rc;
        *dfd = open(l->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (*dfd < 0) {
        if (errno == ENOENT)
            return st_fail(err, PN_E_NOTFOUND, "object not found");
        return sys_fail(err, PN_E_UNAVAILABLE, "cannot open the storage root", errno);
    }
    return PN_OK;
}

/*
 * Open the directory holding `key` (creating missing directories when asked) and point *name
 * at the key's last component. The caller closes *dirfd.
 */
static int
walk(local_t *l, const char *key, bool create, int *dirfd, const char **name, st_err_t *err)
{
    char comp[ST_COMPONENT_MAX + 1];
    int fd, rc;

    /* *name too: the analyzer cannot see that st_fail (another file) never returns PN_OK. */
    *dirfd = -1;
    *name = key;
    if ((rc = open_root(l, create, &fd, err)) != PN_OK)
        return rc;
    const char *p = key;
    const char *slash;
    while ((slash = strchr(p, '/')) != NULL) {
        size_t len = (size_t)(slash - p);
        memcpy(comp, p, len);
        comp[len] = '\0';
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, comp, 0750) != 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                return sys_fail(err, PN_E_UNAVAILABLE, "cannot create a directory", e);
            }
            next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            close(fd);
            if (e == ENOENT || e == ELOOP || e == ENOTDIR)
                return create ? st_fail(err, PN_E_CONFLICT,
                                        "local storage: a path component is not a directory")
                              : st_fail(err, PN_E_NOTFOUND, "object not found");
            return sys_fail(err, PN_E_UNAVAILABLE, "cannot open a directory", e);
        }
        close(fd);
        fd = next;
        p = slash + 1;
    }
    *dirfd = fd;
    *name = p;
    return PN_OK;
}

/* Open an existing regular file read-only without following a symlink or blocking on a FIFO. */
static int
open_object(local_t *l, const char *key, int *out, struct stat *st, st_err_t *err)
{
    int dfd, rc;
    const char *name;

    *out = -1;
    memset(st, 0, sizeof *st); /* for the analyzer, as in walk */
    if ((rc = walk(l, key, false, &dfd, &name, err)) != PN_OK)
        return rc;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int e = errno;
    close(dfd);
    if (fd < 0) {
        if (e == ENOENT || e == ELOOP || e == ENOTDIR || e == EISDIR || e == ENXIO)
            return st_fail(err, PN_E_NOTFOUND, "object not found");
        return sys_fail(err, PN_E_UNAVAILABLE, "cannot open the object", e);
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return st_fail(err, PN_E_NOTFOUND, "object not found");
    }
    /* A regular file: reads never block, but keep the descriptor in the ordinary mode. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    *out = fd;
    return PN_OK;
}

static int
write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
local_put(st_backend_t *b, const char *key, pn_storage_source_fn src, void *ud, uint64_t size_hint,
          const char *content_type, st_err_t *err)
{
    local_t *l = (local_t *)b;
    unsigned char rnd[8];
    char tmp[32];
    const char *name;
    int dfd, fd, rc;
    char *buf = NULL;

    (void)size_hint;
    if ((rc = walk(l, key, true, &dfd, &name, err)) != PN_OK)
        return rc;
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        close(dfd);
        return sys_fail(err, PN_E_INTERNAL, "getrandom", errno);
    }
    (void)snprintf(tmp, sizeof tmp, ".pn-tmp-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
                   rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        rc = sys_fail(err, PN_E_UNAVAILABLE, "cannot create a temporary file", errno);
        close(dfd);
        return rc;
    }
    buf = malloc(IO_CHUNK);
    if (buf == NULL) {
        rc = st_fail(err, PN_E_INTERNAL, "out of memory");
        goto fail;
    }
    for (;;) {
        size_t got = 0;
        rc = src(ud, buf, IO_CHUNK, &got);
        if (rc != PN_OK) {
            rc = st_fail_cb(err, rc, "upload aborted by its source");
            goto fail;
        }
        if (got > IO_CHUNK) {
            rc = st_fail(err, PN_E_INTERNAL, "storage source returned more than asked");
            goto fail;
        }
        if (got == 0)
            break;
        if (write_all(fd, buf, got) != 0) {
            rc =
                sys_fail(err, errno == ENOSPC || errno == EDQUOT ? PN_E_UNAVAILABLE : PN_E_INTERNAL,
                         "write", errno);
            goto fail;
        }
    }
    if (content_type != NULL && content_type[0] != '\0')
        (void)fsetxattr(fd, XATTR_CTYPE, content_type, strnlen(content_type, 127), 0);
    if (fsync(fd) != 0) {
        rc = sys_fail(err, PN_E_UNAVAILABLE, "fsync", errno);
        goto fail;
    }
    close(fd);
    fd = -1;
    if (renameat(dfd, tmp, dfd, name) != 0) {
        int e = errno;
        rc = (e == EISDIR || e == ENOTEMPTY || e == ENOTDIR)
                 ? st_fail(err, PN_E_CONFLICT, "local storage: the key names a directory")
                 : sys_fail(err, PN_E_UNAVAILABLE, "rename", e);
        goto fail;
    }
    /* The rename is durable only once the directory is. */
    if (fsync(dfd) != 0) {
        rc = sys_fail(err, PN_E_UNAVAILABLE, "fsync of the directory", errno);
        close(dfd);
        free(buf);
        return rc;
    }
    close(dfd);
    free(buf);
    return PN_OK;

fail:
    if (fd >= 0)
        close(fd);
    unlinkat(dfd, tmp, 0);
    close(dfd);
    free(buf);
    return rc;
}

/*
 * In-place staging: a resumable upload writes each chunk at its offset into one staging file
 * and publishes it at the end, so every byte is written (and synced) once. The staging file
 * is opened like any object: walked without following symlinks, and only a regular file.
 */
static int
local_write_at(st_backend_t *b, const char *key, uint64_t offset, const void *buf, size_t len,
               bool sync, st_err_t *err)
{
    struct stat st;
    const char *name;
    const char *p = buf;
    int dfd, rc;

    if ((rc = walk((local_t *)b, key, true, &dfd, &name, err)) != PN_OK)
        return rc;
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
    if (fd < 0) {
        rc = errno == ELOOP || errno == EISDIR || errno == ENXIO
                 ? st_fail(err, PN_E_CONFLICT, "local storage: the key is not a regular file")
                 : sys_fail(err, PN_E_UNAVAILABLE, "cannot open the staging file", errno);
        close(dfd);
        return rc;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        close(dfd);
        return st_fail(err, PN_E_CONFLICT, "local storage: the key is not a regular file");
    }
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc =
                sys_fail(err, errno == ENOSPC || errno == EDQUOT ? PN_E_UNAVAILABLE : PN_E_INTERNAL,
                         "write", errno);
            break;
        }
        p += w;
        offset += (uint64_t)w;
        len -= (size_t)w;
    }
    /* The data (and the size) before the caller records the new offset; the directory entry
     * too, as the first write created it. */
    if (rc == PN_OK && sync && (fdatasync(fd) != 0 || fsync(dfd) != 0))
        rc = sys_fail(err, PN_E_UNAVAILABLE, "fsync", errno);
    close(fd);
    close(dfd);
    return rc;
}

static int
local_publish(st_backend_t *b, const char *from, const char *to, const char *content_type,
              st_err_t *err)
{
    local_t *l = (local_t *)b;
    struct stat st;
    unsigned char rnd[8];
    char tmp[32];
    const char *sname, *dname;
    int sdfd, ddfd = -1, fd, rc;

    if ((rc = walk(l, from, false, &sdfd, &sname, err)) != PN_OK)
        return rc;
    fd = openat(sdfd, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        close(sdfd);
        return st_fail(err, PN_E_NOTFOUND, "staging object not found");
    }
    if (content_type != NULL && content_type[0] != '\0')
        (void)fsetxattr(fd, XATTR_CTYPE, content_type, strnlen(content_type, 127), 0);
    /* Cheap when write_at synced every part; the published object must be durable. */
    rc = fsync(fd) != 0 ? sys_fail(err, PN_E_UNAVAILABLE, "fsync", errno) : PN_OK;
    close(fd);
    if (rc == PN_OK)
        rc = walk(l, to, true, &ddfd, &dname, err);
    if (rc != PN_OK) {
        close(sdfd);
        return rc;
    }
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        rc = sys_fail(err, PN_E_INTERNAL, "getrandom", errno);
        goto out;
    }
    (void)snprintf(tmp, sizeof tmp, ".pn-tmp-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
                   rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    /* A second name under a temporary entry, then renamed over the target: the target is
     * replaced atomically (as put does) even when an earlier attempt left one behind. */
    if (linkat(sdfd, sname, ddfd, tmp, 0) != 0) {
        rc = sys_fail(err, errno == EXDEV ? PN_E_INTERNAL : PN_E_UNAVAILABLE, "link", errno);
        goto out;
    }
    if (renameat(ddfd, tmp, ddfd, dname) != 0) {
        int e = errno;
        unlinkat(ddfd, tmp, 0);
        rc = (e == EISDIR || e == ENOTEMPTY || e == ENOTDIR)
                 ? st_fail(err, PN_E_CONFLICT, "local storage: the key names a directory")
                 : sys_fail(err, PN_E_UNAVAILABLE, "rename", e);
        goto out;
    }
    if (fsync(ddfd) != 0)
        rc = sys_fail(err, PN_E_UNAVAILABLE, "fsync of the directory", errno);
out:
    if (ddfd >= 0)
        close(ddfd);
    close(sdfd);
    return rc;
}

static int
local_get(st_backend_t *b, const char *key, uint64_t offset, uint64_t length,
          pn_storage_sink_fn sink, void *ud, st_err_t *err)
{
    struct stat st;
    int fd, rc;

    if ((rc = open_object((local_t *)b, key, &fd, &st, err)) != PN_OK)
        return rc;
    uint64_t size = (uint64_t)st.st_size;
    if (offset > 0 && offset >= size) {
        close(fd);
        return st_fail(err, PN_E_RANGE, "range starts past the end of the object");
    }
    uint64_t end = (length == 0 || length > size - offset) ? size : offset + length;
    char *buf = malloc(IO_CHUNK);
    if (buf == NULL) {
        close(fd);
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    }
    rc = PN_OK;
    while (offset < end) {
        size_t want = end - offset > IO_CHUNK ? IO_CHUNK : (size_t)(end - offset);
        ssize_t r = pread(fd, buf, want, (off_t)offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = sys_fail(err, PN_E_UNAVAILABLE, "read", errno);
            break;
        }
        if (r == 0) {
            rc = st_fail(err, PN_E_CONFLICT, "object shrank while it was read");
            break;
        }
        int src = sink(ud, buf, (size_t)r);
        if (src != PN_OK) {
            rc = st_fail_cb(err, src, "download stopped by its sink");
            break;
        }
        offset += (uint64_t)r;
    }
    free(buf);
    close(fd);
    return rc;
}

static int
local_open_fd(st_backend_t *b, const char *key, int *fd, uint64_t *size, st_err_t *err)
{
    struct stat st;
    int rc = open_object((local_t *)b, key, fd, &st, err);
    if (rc == PN_OK && size != NULL)
        *size = (uint64_t)st.st_size;
    return rc;
}

static int
local_remove(st_backend_t *b, const char *key, st_err_t *err)
{
    const char *name;
    int dfd;
    int rc = walk((local_t *)b, key, false, &dfd, &name, err);

    if (rc == PN_E_NOTFOUND)
        return PN_OK; /* removing what is not there succeeds, like the remote providers */
    if (rc != PN_OK)
        return rc;
    if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT && errno != EISDIR && errno != EPERM) {
        rc = sys_fail(err, PN_E_UNAVAILABLE, "unlink", errno);
        close(dfd);
        return rc;
    }
    (void)fsync(dfd);
    close(dfd);
    return PN_OK;
}

static int
local_stat(st_backend_t *b, const char *key, pn_storage_info_t *info, st_err_t *err)
{
    struct stat st;
    int fd;
    int rc = open_object((local_t *)b, key, &fd, &st, err);

    if (rc != PN_OK)
        return rc;
    info->size = (uint64_t)st.st_size;
    (void)snprintf(info->etag, sizeof info->etag, "%" PRIx64 "-%" PRIx64 "-%" PRIx64 "%09ld",
                   (uint64_t)st.st_ino, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
                   (long)st.st_mtim.tv_nsec);
    ssize_t n = fgetxattr(fd, XATTR_CTYPE, info->content_type, sizeof info->content_type - 1);
    info->content_type[n > 0 ? n : 0] = '\0';
    close(fd);
    return PN_OK;
}

static int
local_presign(st_backend_t *b, const char *key, pn_method_t method, int ttl_s, char **url,
              st_err_t *err)
{
    (void)b, (void)key, (void)method, (void)ttl_s, (void)url;
    return st_fail(err, PN_E_UNAVAILABLE, "local storage has no presigned URLs");
}

/* The root exists (or can be made) and takes a durable write. */
static int
local_health(st_backend_t *b, st_err_t *err)
{
    local_t *l = (local_t *)b;
    int dfd, rc;

    if ((rc = open_root(l, true, &dfd, err)) != PN_OK)
        return rc;
    int fd = openat(dfd, ".pn-health", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0 || write_all(fd, "ok", 2) != 0 || fsync(fd) != 0) {
        rc = sys_fail(err, PN_E_UNAVAILABLE, "the storage root is not writable", errno);
        if (fd >= 0)
            close(fd);
        close(dfd);
        return rc;
    }
    close(fd);
    unlinkat(dfd, ".pn-health", 0);
    close(dfd);
    return PN_OK;
}

static void
local_free(st_backend_t *b)
{
    local_t *l = (local_t *)b;
    free(l->root);
    free(l);
}

static const st_ops_t local_ops = {
    .type = "local",
    .put = local_put,
    .get = local_get,
    .open_fd = local_open_fd,
    .remove = local_remove,
    .stat = local_stat,
    .presign = local_presign,
    .health = local_health,
    .free = local_free,
    .write_at = local_write_at,
    .publish = local_publish,
};

int
st_local_new(const json_t *conf, const st_opts_t *opts, st_backend_t **out, st_err_t *err)
{
    const char *root = json_string_value(json_object_get(conf, "root"));

    if (root == NULL || root[0] != '/')
        return st_fail(err, PN_E_INVALID, "local storage root must be an absolute path");
    if (strlen(root) > 3000)
        return st_fail(err, PN_E_INVALID, "local storage root is too long");
    /* No '.' or '..' component: the plugin's allowed-roots check compares prefixes. */
    for (const char *p = root; (p = strchr(p, '/')) != NULL;) {
        p++;
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return st_fail(err, PN_E_INVALID, "local storage root has a '.' or '..' component");
    }
    local_t *l = calloc(1, sizeof *l);
    if (l == NULL || (l->root = strdup(root)) == NULL) {
        free(l);
        return st_fail(err, PN_E_INTERNAL, "out of memory");
    }
    /* A trailing '/' would make an empty component in the root itself; harmless for open. */
    l->base.ops = &local_ops;
    l->base.opts = *opts;
    *out = &l->base;
    return PN_OK;
}
