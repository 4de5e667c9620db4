/* The job plugin loader: dlopen with RTLD_NOW | RTLD_LOCAL, descriptor checks, class index. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugins.h"

static const char *
base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static bool
valid_name(const char *n)
{
    if (!n || !(n[0] >= 'a' && n[0] <= 'z'))
        return false;
    size_t i = 1;
    for (; n[i]; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_') ||
            i > 31)
            return false;
    return true;
}

static bool
valid_class(const char *c)
{
    size_t n = c ? strlen(c) : 0;
    if (n == 0 || n > 200)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
              (c[i] >= '0' && c[i] <= '9') || c[i] == '_' || c[i] == ':'))
            return false;
    return true;
}

static bool
valid_spec(const char *s)
{
    for (; s && *s; s++)
        if (!strchr("sinboa*?", *s))
            return false;
    return true;
}

/* Compares ';'-separated tags; names the first part that differs. */
static int
tag_differs(const char *mine, const char *theirs, char *part, size_t plen, char *a, char *b,
            size_t vlen)
{
    static const char *const names[] = {"ABI number", "data model", "Jansson version"};
    for (int i = 0;; i++) {
        size_t la = strcspn(mine, ";"), lb = strcspn(theirs, ";");
        if (la != lb || memcmp(mine, theirs, la) != 0) {
            (void)snprintf(part, plen, "%s", i < 3 ? names[i] : "extra part");
            (void)snprintf(a, vlen, "%.*s", (int)la, mine);
            (void)snprintf(b, vlen, "%.*s", (int)lb, theirs);
            return 1;
        }
        if (!mine[la] && !theirs[lb])
            return 0;
        mine += la + (mine[la] ? 1 : 0);
        theirs += lb + (theirs[lb] ? 1 : 0);
    }
}

static int
check(const pnw_registry_t *r, const char *path, const pn_job_plugin_t *d, char *err, size_t errlen)
{
    const char *file = base_name(path);
    const char *nm = d && valid_name(d->name) ? d->name : "?";
    char part[32], mine[64], theirs[64];
    if (!d) {
        (void)snprintf(err, errlen, "job plugin %s: entry point returned no descriptor", path);
        return -1;
    }
    if (d->abi != PN_JOB_ABI) {
        (void)snprintf(err, errlen,
                       "job plugin \"%s\" (%s): built for job ABI %u, this worker provides ABI %u; "
                       "rebuild against powernode-job %u.x",
                       nm, file, d->abi, PN_JOB_ABI, PN_JOB_ABI);
        return -1;
    }
    if (d->size < offsetof(pn_job_plugin_t, summary)) {
        (void)snprintf(err, errlen, "job plugin %s: descriptor too small (%u bytes) for job ABI %u",
                       path, d->size, PN_JOB_ABI);
        return -1;
    }
    if (!d->abi_tag) {
        (void)snprintf(err, errlen, "job plugin %s: descriptor has no ABI tag", path);
        return -1;
    }
    if (tag_differs(PN_JOB_ABI_TAG, d->abi_tag, part, sizeof part, mine, theirs, sizeof mine)) {
        (void)snprintf(err, errlen,
                       "job plugin \"%s\" (%s): ABI tag differs in the %s: plugin \"%s\", "
                       "worker \"%s\"",
                       nm, file, part, theirs, mine);
        return -1;
    }
    if (!valid_name(d->name)) {
        (void)snprintf(err, errlen, "job plugin %s: invalid name (need [a-z][a-z0-9_]{0,31})",
                       path);
        return -1;
    }
    if (!d->version || !d->version[0]) {
        (void)snprintf(err, errlen, "job plugin \"%s\" (%s): no version", d->name, file);
        return -1;
    }
    if (!d->classes || d->nclasses == 0 || d->nclasses > 1000) {
        (void)snprintf(err, errlen, "job plugin \"%s\" (%s): declares no job classes", d->name,
                       file);
        return -1;
    }
    if (d->class_size < offsetof(pn_job_class_t, execute) + sizeof(void *) ||
        d->class_size > 4096) {
        (void)snprintf(err, errlen,
                       "job plugin \"%s\" (%s): class size %zu is not a job ABI %u class", d->name,
                       file, d->class_size, PN_JOB_ABI);
        return -1;
    }
    for (size_t i = 0; i < r->nplugins; i++)
        if (!strcmp(r->plugins[i].desc->name, d->name)) {
            (void)snprintf(err, errlen, "job plugin \"%s\" (%s): name already used by %s", d->name,
                           file, r->plugins[i].path);
            return -1;
        }
    return 0;
}

static int
add_classes(pnw_registry_t *r, pnw_plugin_t *p, char *err, size_t errlen)
{
    const pn_job_plugin_t *d = p->desc;
    const char *file = base_name(p->path);
    pnw_class_t *n = realloc(r->classes, (r->nclasses + d->nclasses) * sizeof *n);
    if (!n)
        return -1;
    r->classes = n;
    for (size_t i = 0; i < d->nclasses; i++) {
        pn_job_class_t c = {0};
        const char *src = (const char *)d->classes + i * d->class_size;
        memcpy(&c, src, d->class_size < sizeof c ? d->class_size : sizeof c);
        if (!valid_class(c.name)) {
            (void)snprintf(err, errlen,
                           "job plugin \"%s\" (%s): class #%zu has an invalid name (need "
                           "[A-Za-z0-9_:]{1,200})",
                           d->name, file, i);
            return -1;
        }
        if (!c.execute) {
            (void)snprintf(err, errlen, "job plugin \"%s\" (%s): class %s has no execute function",
                           d->name, file, c.name);
            return -1;
        }
        if (!valid_spec(c.args)) {
            (void)snprintf(err, errlen,
                           "job plugin \"%s\" (%s): class %s: args signature \"%s\" may "
                           "only use s i n b o a * ?",
                           d->name, file, c.name, c.args);
            return -1;
        }
        if (c.timeout_s < 0 || c.cpu_limit_s < 0 || c.memory_limit_mb < 0 ||
            c.retry < PN_JOB_NO_RETRY || c.retry > 1000) {
            (void)snprintf(err, errlen,
                           "job plugin \"%s\" (%s): class %s: negative limit or retry "
                           "outside -1..1000",
                           d->name, file, c.name);
            return -1;
        }
        for (size_t j = 0; j < r->nclasses; j++)
            if (!strcmp(r->classes[j].c.name, c.name)) {
                (void)snprintf(err, errlen,
                               "job plugin \"%s\" (%s): class %s already provided by %s", d->name,
                               file, c.name, r->classes[j].plugin->path);
                return -1;
            }
        if (c.timeout_s == 0)
            c.timeout_s = 300;
        if (c.cpu_limit_s == 0)
            c.cpu_limit_s = c.timeout_s;
        if (c.memory_limit_mb == 0)
            c.memory_limit_mb = 1024;
        r->classes[r->nclasses] = (pnw_class_t){c, p, (int)r->nclasses};
        r->nclasses++;
    }
    return 0;
}

int
pnw_plugins_open(pnw_registry_t *r, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        (void)snprintf(err, errlen, "job plugin %s: %s", path,
                       errno == ENOENT ? "file not found" : strerror(errno));
        return -1;
    }
    unsigned char magic[4] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool elf = fd >= 0 && read(fd, magic, 4) == 4 && !memcmp(magic, "\177ELF", 4);
    if (fd >= 0)
        close(fd);
    if (!S_ISREG(st.st_mode) || !elf) {
        (void)snprintf(err, errlen, "job plugin %s: not a shared object", path);
        return -1;
    }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        (void)snprintf(err, errlen, "job plugin %s: cannot open: %s", path, dlerror());
        return -1;
    }
    const pn_job_plugin_t *(*entry)(void);
    *(void **)&entry = dlsym(dl, PN_JOB_ENTRY);
    if (!entry) {
        (void)snprintf(err, errlen, "job plugin %s: not a Powernode job plugin (no %s)", path,
                       PN_JOB_ENTRY);
        dlclose(dl);
        return -1;
    }
    const pn_job_plugin_t *d = entry();
    if (check(r, path, d, err, errlen) != 0) {
        dlclose(dl);
        return -1;
    }
    /* Classes point at their plugin, so the plugin array must not move: it is sized once
     * for the worst case on first use (configs name at most 64 plugins). */
    if (!r->plugins && !(r->plugins = calloc(64, sizeof *r->plugins))) {
        dlclose(dl);
        return -1;
    }
    if (r->nplugins >= 64) {
        (void)snprintf(err, errlen, "job plugin %s: at most 64 job plugins", path);
        dlclose(dl);
        return -1;
    }
    pnw_plugin_t *p = &r->plugins[r->nplugins];
    *p = (pnw_plugin_t){strdup(path), dl, d, false};
    size_t before = r->nclasses;
    if (add_classes(r, p, err, errlen) != 0) {
        r->nclasses = before;
        free(p->path);
        dlclose(dl);
        return -1;
    }
    r->nplugins++;
    return 0;
}

int
pnw_plugins_init(pnw_registry_t *r, const pn_job_host_t *host, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->nplugins; i++) {
        pnw_plugin_t *p = &r->plugins[i];
        if (p->desc->host_slot)
            *p->desc->host_slot = host;
        if (p->desc->init) {
            int rc = p->desc->init(host);
            if (rc != 0) {
                (void)snprintf(err, errlen, "job plugin \"%s\" (%s): init failed (%d)",
                               p->desc->name, base_name(p->path), rc);
                return -1;
            }
        }
        p->inited = true;
    }
    return 0;
}

void
pnw_plugins_close(pnw_registry_t *r)
{
    for (size_t i = r->nplugins; i-- > 0;) {
        pnw_plugin_t *p = &r->plugins[i];
        if (p->inited && p->desc->fini)
            p->desc->fini();
        /* Not dlclose'd: this runs only at exit, and unloading libraries such as GLib
         * (through libvips) is not safe; their remaining state would also show up as leaks
         * from an unknown module. The process exit unmaps everything. */
        free(p->path);
    }
    free(r->plugins);
    free(r->classes);
    memset(r, 0, sizeof *r);
}

const pnw_class_t *
pnw_plugins_find(const pnw_registry_t *r, const char *name)
{
    /* Linear: a worker has tens of classes and the compare fails on the first bytes. */
    for (size_t i = 0; i < r->nclasses; i++)
        if (!strcmp(r->classes[i].c.name, name))
            return &r->classes[i];
    return NULL;
}
