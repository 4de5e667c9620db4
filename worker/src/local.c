/* The local server of --run: answers a job's API calls for one made-up processing job and its
 * file from the local file, writes derivative uploads into the output directory, journals the
 * mutating calls, and refuses everything else (local mode has no server and no network). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cryptoload.h"
#include "local.h"

static struct {
    bool on;
    const char *job_class;
    const char *file;
    char out[PATH_MAX];
    const pnw_local_opts_t *o;
    json_t *params;
    json_t *marks;
    int jfd;
    json_t *mem;     /* the journal, when the runner runs the job itself */
    char sha256[65]; /* the file's, once known ("" before) */
} L = {.jfd = -1};

json_t *
pnw_local_param(const char *kv, char **key)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return NULL;
    *key = strndup(kv, (size_t)(eq - kv));
    json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
    if (!v)
        v = json_string(eq + 1); /* NULL when not UTF-8 */
    if (!v || !*key) {
        json_decref(v);
        free(*key);
        *key = NULL;
        return NULL;
    }
    return v;
}

int
pnw_local_begin(const char *job_class, const char *file, const char *out, const pnw_local_opts_t *o,
                bool in_memory, char *err, size_t errlen)
{
    char jpath[PATH_MAX + 64];
    pnw_local_end();
    /* The runner hands over absolute paths it made; anything else is resolved. */
    if (out[0] == '/' && strlen(out) < sizeof L.out)
        memcpy(L.out, out, strlen(out) + 1);
    else if (!realpath(out, L.out)) {
        (void)snprintf(err, errlen, "%s: %s", out, strerror(errno));
        return -1;
    }
    (void)snprintf(jpath, sizeof jpath, "%s/%s", L.out, PNW_LOCAL_JOURNAL); /* L.out < PATH_MAX */
    if (in_memory)
        L.mem = json_array();
    else
        L.jfd = open(jpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (in_memory ? !L.mem : L.jfd < 0) {
        (void)snprintf(err, errlen, "%s: %s", jpath, strerror(errno));
        return -1;
    }
    L.params = json_object();
    for (size_t i = 0; i < o->nparams; i++) {
        char *k = NULL;
        json_t *v = pnw_local_param(o->params[i], &k);
        if (!v) {
            (void)snprintf(err, errlen, "--arg %s: expected key=value", o->params[i]);
            pnw_local_end();
            return -1;
        }
        json_object_set_new(L.params, k, v);
        free(k);
    }
    L.marks = json_object();
    L.sha256[0] = '\0';
    L.job_class = job_class;
    L.file = file;
    L.o = o;
    L.on = true;
    return 0;
}

json_t *
pnw_local_journal_take(void)
{
    json_t *m = L.mem;
    L.mem = NULL;
    return m;
}

void
pnw_local_end(void)
{
    json_decref(L.mem);
    L.mem = NULL;
    if (L.jfd >= 0)
        close(L.jfd);
    json_decref(L.params);
    json_decref(L.marks);
    L.params = L.marks = NULL;
    L.jfd = -1;
    L.on = false;
}

const char *
pnw_local_config(const char *key)
{
    size_t n = strlen(key);
    /* The last --set of a key wins, as on a command line. */
    for (size_t i = L.o ? L.o->nsets : 0; i-- > 0;)
        if (!strncmp(L.o->sets[i], key, n) && L.o->sets[i][n] == '=')
            return L.o->sets[i] + n + 1;
    return NULL;
}

int
pnw_local_processed(const char *key)
{
    return json_object_get(L.marks, key) != NULL;
}

int
pnw_local_mark(const char *key)
{
    return json_object_set_new(L.marks, key, json_true()) == 0 ? 0 : -1;
}

/* One journal line, one write: a crash of the job leaves whole lines behind. */
static void
journal(json_t *rec)
{
    if (L.mem) {
        if (rec)
            json_array_append_new(L.mem, rec);
        return;
    }
    char *s = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    if (s && L.jfd >= 0) {
        size_t n = strlen(s);
        s[n] = '\n'; /* replaces the terminator; write exactly n + 1 bytes */
        if (write(L.jfd, s, n + 1) != (ssize_t)(n + 1))
            (void)fprintf(stderr, "powernode-worker --run: cannot write the journal\n");
    }
    free(s);
    json_decref(rec);
}

/* Copy in -> out from offset 0, skipping holes (a sparse test file stays cheap). */
static int
copy_fd(int in, int out, uint64_t len)
{
    char buf[1 << 16];
    off_t pos = 0;
    while ((uint64_t)pos < len) {
        off_t data = lseek(in, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break; /* only a hole is left */
        if (data < 0)
            data = pos; /* no SEEK_DATA here: copy everything */
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0 || (uint64_t)hole > len)
            hole = (off_t)len;
        for (off_t at = data; at < hole;) {
            size_t want = (size_t)(hole - at) < sizeof buf ? (size_t)(hole - at) : sizeof buf;
            ssize_t r = pread(in, buf, want, at);
            if (r <= 0)
                return -1;
            for (ssize_t w = 0; w < r;) {
                ssize_t k = pwrite(out, buf + w, (size_t)(r - w), at + w);
                if (k <= 0)
                    return -1;
                w += k;
            }
            at += r;
        }
        pos = hole;
    }
    return ftruncate(out, (off_t)len);
}

static int
refuse(const pnw_api_req_t *rq, char *why, size_t whylen, const char *what)
{
    (void)snprintf(why, whylen, "local mode (--run): %s %s %s", rq->method, rq->path, what);
    return -1;
}

static json_t *
envelope(json_t *data)
{
    return json_pack("{s:b, s:o}", "success", 1, "data", data);
}

static json_t *
error_envelope(const char *msg)
{
    return json_pack("{s:b, s:s}", "success", 0, "error", msg);
}

static int
download(const pnw_api_req_t *rq, long *status, char *why, size_t whylen)
{
    if (!rq->sink)
        return refuse(rq, why, whylen, "is a file's content: fetch it with api_download");
    int fd = open(L.file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        (void)snprintf(why, whylen, "local mode (--run): %s: %s", L.file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    uint64_t size = (uint64_t)st.st_size;
    /* A head (Range: bytes=0-N) as the server answers it: 206 with what exists, 416 when the
     * content is empty. */
    if (rq->range_len && size == 0) {
        close(fd);
        *status = 416;
        return 0;
    }
    if (rq->range_len && size > rq->range_len)
        size = rq->range_len;
    /* The same refusal as a real transfer over the cap: no status, no retry. */
    if (rq->sink_max && size > rq->sink_max) {
        close(fd);
        (void)snprintf(why, whylen, "%s %s: content larger than %llu bytes", rq->method, rq->path,
                       (unsigned long long)rq->sink_max);
        return -1;
    }
    int rc = copy_fd(fd, rq->sink_fd, size);
    close(fd);
    if (rc != 0) {
        (void)snprintf(why, whylen, "%s %s: cannot write the destination file", rq->method,
                       rq->path);
        return -1;
    }
    *status = rq->range_len ? 206 : 200;
    return 0;
}

static bool
safe_name(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* The value of name in a query string "a=1&b=2" (copied into out), or NULL. */
static const char *
query_get(const char *q, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (!strncmp(p, name, n) && p[n] == '=') {
            const char *v = p + n + 1, *end = strchr(v, '&');
            size_t len = end ? (size_t)(end - v) : strlen(v);
            if (len >= outlen)
                return NULL;
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

static int
derivative(const pnw_api_req_t *rq, const char *query, long *status, json_t **reply, char *why,
           size_t whylen)
{
    char kind[64], name[128], dst[PATH_MAX + 256], fname[200];
    if (!rq->source)
        return refuse(rq, why, whylen, "takes the derivative as a raw body (api_upload)");
    if (!query_get(query, "kind", kind, sizeof kind) || !safe_name(kind, 32) ||
        !query_get(query, "name", name, sizeof name) || !safe_name(name, 100)) {
        *status = 422;
        *reply = error_envelope("kind and name must be [A-Za-z0-9._-], not starting with '.'");
        return 0;
    }
    /* kind <= 32 and name <= 100 characters, L.out < PATH_MAX: both fit. */
    (void)snprintf(fname, sizeof fname, "%s-%s", kind, name);
    (void)snprintf(dst, sizeof dst, "%s/%s", L.out, fname);
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 || copy_fd(rq->source_fd, fd, rq->source_len) != 0) {
        (void)snprintf(why, whylen, "local mode (--run): cannot write %s: %s", dst,
                       strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    journal(json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "t", "derivative", "kind", kind, "name",
                      name, "file", fname, "bytes", (json_int_t)rq->source_len, "content_type",
                      rq->content_type ? rq->content_type : "application/octet-stream"));
    *status = 201;
    *reply = envelope(json_pack("{s:s, s:s, s:I}", "kind", kind, "name", name, "byte_size",
                                (json_int_t)rq->source_len));
    return 0;
}

/* The SHA-256 of the local file as lowercase hex, read in one pass. 0, or -1. */
static int
sha256_file(const char *path, char hex[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = pnw_sha256_fd(fd, hex);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* --sha256sums, read once per process (a batch run asks for every one of its files). */
static const char *
sums_text(void)
{
    static char *text;
    static bool read_once;
    if (!read_once && L.o && L.o->sha256sums) {
        read_once = true;
        FILE *f = fopen(L.o->sha256sums, "re");
        size_t cap = 0;
        if (f && getdelim(&text, &cap, '\0', f) < 0) {
            free(text);
            text = NULL;
        }
        if (f)
            (void)fclose(f);
    }
    return text;
}

/* Does the name on a --sha256sums line resolve to L.file (a realpath)? The directory part is
 * resolved once per process for a batch whose lines share it: its real path joined with the
 * file name is L.file only if the name is that file (L.file's last component is no link).
 * Anything else, a link to the file included, goes through realpath() itself. */
static bool
same_file(const char *name, char real[PATH_MAX])
{
    static char dir[PATH_MAX], rdir[PATH_MAX];
    const char *slash = strrchr(name, '/');
    size_t dl = slash ? (size_t)(slash - name) : 0;
    if (slash && dl > 0 && dl < sizeof dir) {
        if (strlen(dir) != dl || strncmp(dir, name, dl) != 0) {
            memcpy(dir, name, dl);
            dir[dl] = '\0';
            if (!realpath(dir, rdir))
                rdir[0] = '\0';
        }
        size_t rl = strlen(rdir);
        if (rl && !strncmp(L.file, rdir, rl) && L.file[rl] == '/' &&
            !strcmp(L.file + rl + 1, slash + 1))
            return true;
    }
    return realpath(name, real) && !strcmp(real, L.file);
}

/* The line of --sha256sums naming L.file ("<64 hex> <space or *><path>", as sha256sum
 * writes): its hash into hex. 0 when found. */
static int
sha256_listed(char hex[65])
{
    char name[PATH_MAX], real[PATH_MAX];
    const char *want = strrchr(L.file, '/');
    want = want ? want + 1 : L.file;
    for (const char *line = sums_text(); line && *line;) {
        const char *eol = strchr(line, '\n'), *next = eol ? eol + 1 : line + strlen(line);
        size_t len = (size_t)(next - line) - (eol != NULL);
        bool ok = len > 66 && len - 66 < sizeof name &&
                  strspn(line, "0123456789abcdefABCDEF") >= 64 && line[64] == ' ' &&
                  (line[65] == ' ' || line[65] == '*');
        if (ok) {
            memcpy(name, line + 66, len - 66);
            name[len - 66] = '\0';
            const char *base = strrchr(name, '/');
            /* Resolved only for a line naming the same file name: realpath() costs a readlink
             * per path component, and a SHA256SUMS of a whole batch has a line per file. */
            if (!strcmp(base ? base + 1 : name, want) && same_file(name, real)) {
                for (int i = 0; i < 64; i++)
                    hex[i] = (char)tolower((unsigned char)line[i]);
                hex[64] = '\0';
                return 0;
            }
        }
        line = next;
    }
    return -1;
}

/* What the server knows of the file after its upload: the stand-in record. The checksum is
 * worked out only for a GET of the record (a metadata job asks), not for every reply. */
static json_t *
file_json(bool want_hash)
{
    struct stat st;
    char tmp[PATH_MAX];
    (void)snprintf(tmp, sizeof tmp, "%s", L.file); /* a realpath(): shorter than PATH_MAX */
    json_int_t size = stat(L.file, &st) == 0 ? (json_int_t)st.st_size : 0;
    if (want_hash && !L.sha256[0] && sha256_listed(L.sha256) != 0 &&
        sha256_file(L.file, L.sha256) != 0)
        L.sha256[0] = '\0';
    return json_pack("{s:s, s:s, s:I, s:s, s:s?}", "id", PNW_LOCAL_FILE_ID, "filename",
                     basename(tmp), "file_size", size, "content_type", "application/octet-stream",
                     "checksum_sha256", L.sha256[0] ? L.sha256 : NULL);
}

static int
serve(const pnw_api_req_t *rq, const char *path, const char *query, long *status, json_t **reply,
      char *why, size_t whylen)
{
    static const char jobs[] = "/api/v1/worker/processing_jobs/" PNW_LOCAL_JOB_ID;
    static const char file[] = "/api/v1/worker/files/" PNW_LOCAL_FILE_ID;
    bool get = !strcmp(rq->method, "GET"), patch = !strcmp(rq->method, "PATCH");
    if (!strcmp(path, jobs) && get) {
        *reply = envelope(json_pack("{s:s, s:s, s:s, s:s, s:O}", "id", PNW_LOCAL_JOB_ID, "status",
                                    "pending", "file_object_id", PNW_LOCAL_FILE_ID, "job_type",
                                    L.job_class, "job_parameters", L.params));
    } else if (!strcmp(path, jobs) && patch && json_is_object(rq->body)) {
        journal(json_pack("{s:s, s:O}", "t", "status", "body", rq->body));
        *reply = envelope(json_pack("{s:s, s:O?}", "id", PNW_LOCAL_JOB_ID, "status",
                                    json_object_get(rq->body, "status")));
    } else if (!strcmp(path, file) && get) {
        *reply = envelope(file_json(true));
    } else if (!strcmp(path, file) && patch && json_is_object(rq->body)) {
        journal(json_pack("{s:s, s:O}", "t", "metadata", "body", rq->body));
        *reply = envelope(file_json(false));
    } else if (!strncmp(path, file, sizeof file - 1) &&
               !strcmp(path + sizeof file - 1, "/download") && get) {
        return download(rq, status, why, whylen);
    } else if (!strncmp(path, file, sizeof file - 1) &&
               !strcmp(path + sizeof file - 1, "/derivatives") && !strcmp(rq->method, "POST")) {
        return derivative(rq, query, status, reply, why, whylen);
    } else {
        return refuse(rq, why, whylen,
                      "is not served: there is no server and no network; only the processing "
                      "job " PNW_LOCAL_JOB_ID " and its file " PNW_LOCAL_FILE_ID
                      " are (GET, PATCH, file download, derivative upload)");
    }
    *status = 200;
    return 0;
}

int
pnw_local_call(const pnw_api_req_t *rq, long *status, json_t **reply, char *why, size_t whylen)
{
    char path[1024];
    *status = 0;
    if (reply)
        *reply = NULL;
    if (!L.on)
        return refuse(rq, why, whylen, "outside a local run");
    const char *q = strchr(rq->path, '?');
    size_t n = q ? (size_t)(q - rq->path) : strlen(rq->path);
    if (n >= sizeof path)
        return refuse(rq, why, whylen, "is too long");
    memcpy(path, rq->path, n);
    path[n] = '\0';
    json_t *r = NULL;
    int rc = serve(rq, path, q ? q + 1 : "", status, &r, why, whylen);
    journal(json_pack("{s:s, s:s, s:s, s:I, s:s*}", "t", "call", "method", rq->method, "path",
                      rq->path, "status", (json_int_t)*status, "refused", rc ? why : NULL));
    if (reply)
        *reply = r;
    else
        json_decref(r);
    return rc;
}
