/*
 * Plugin discovery, descriptor checks, dependency ordering, init and fini. Not for route or
 * config handling: those live behind the host table the plugins call during init.
 */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/log.h"

struct pnk_loader {
    pn_plugin_ctx_t **items;
    size_t n, cap;
    pn_plugin_ctx_t **order; /* init order, enabled plugins only */
    size_t norder;
    bool resolved, finished;
};

static void say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

pnk_loader_t *
pnk_loader_new(void)
{
    return calloc(1, sizeof(pnk_loader_t));
}

static void
plugin_free(pn_plugin_ctx_t *p)
{
    /* Plugins are opened with RTLD_NODELETE: unloading buys nothing at exit, and keeping them
     * mapped lets sanitizer reports name plugin symbols. */
    if (p->dl)
        dlclose(p->dl);
    free(p->path);
    free(p->error);
    free(p->sql_dir);
    free(p->config_section);
    free(p);
}

void
pnk_loader_free(pnk_loader_t *l)
{
    if (l == NULL)
        return;
    pnk_loader_fini(l);
    for (size_t i = 0; i < l->n; i++)
        plugin_free(l->items[i]);
    free(l->items);
    free(l->order);
    free(l);
}

static bool
valid_name(const char *s)
{
    size_t n = 0;

    if (s == NULL || !(*s >= 'a' && *s <= 'z'))
        return false;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return false;
    return n <= 32;
}

/* The tag is "pn<abi>;<data model>;jansson<major>": name the first part that differs. */
static int
check_tag(const char *mine, const char *theirs, char *part_out, size_t partlen, char *mine_out,
          char *theirs_out, size_t vlen)
{
    static const char *const part_names[] = {"plugin ABI", "data model", "Jansson major version"};
    const char *a = mine, *b = theirs;

    for (int part = 0;; part++) {
        size_t la = strcspn(a, ";"), lb = strcspn(b, ";");
        if (la != lb || memcmp(a, b, la) != 0) {
            (void)snprintf(part_out, partlen, "%s", part < 3 ? part_names[part] : "part");
            (void)snprintf(mine_out, vlen, "%.*s", (int)la, a);
            (void)snprintf(theirs_out, vlen, "%.*s", (int)lb, b);
            return -1;
        }
        if (a[la] == '\0' && b[lb] == '\0')
            return 0;
        a += la + (a[la] ? 1 : 0);
        b += lb + (b[lb] ? 1 : 0);
    }
}

static bool
is_elf(const char *path)
{
    unsigned char magic[4];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool ok = false;

    if (fd < 0)
        return false;
    ok = read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;
    close(fd);
    return ok;
}

static int
check_descriptor(pnk_loader_t *l, const char *path, const pn_plugin_t *d, char *err, size_t errlen)
{
    const char *file = base_name(path);
    char part[64], mine[64], theirs[64];

    if (d == NULL) {
        say(err, errlen, "plugin %s: entry point returned no descriptor", path);
        return -1;
    }
    if (d->abi != PN_PLUGIN_ABI) {
        say(err, errlen,
            "plugin \"%s\" (%s): built for plugin ABI %u, this server provides ABI %u; rebuild "
            "against powernode-plugin %u.x",
            valid_name(d->name) ? d->name : "?", file, d->abi, PN_PLUGIN_ABI, PN_PLUGIN_ABI);
        return -1;
    }
    if (d->size < offsetof(pn_plugin_t, summary)) {
        say(err, errlen, "plugin %s: descriptor too small (%u bytes) for ABI %u", path, d->size,
            PN_PLUGIN_ABI);
        return -1;
    }
    if (d->abi_tag == NULL ||
        check_tag(PN_ABI_TAG, d->abi_tag, part, sizeof part, mine, theirs, sizeof mine) != 0) {
        if (d->abi_tag == NULL)
            say(err, errlen, "plugin %s: descriptor has no ABI tag", path);
        else
            say(err, errlen,
                "plugin \"%s\" (%s): ABI tag differs in the %s: plugin \"%s\", "
                "server \"%s\"",
                valid_name(d->name) ? d->name : "?", file, part, theirs, mine);
        return -1;
    }
    if (!valid_name(d->name)) {
        say(err, errlen, "plugin %s: invalid name (need [a-z][a-z0-9_]{0,31})", path);
        return -1;
    }
    if (d->version == NULL || d->version[0] == '\0') {
        say(err, errlen, "plugin \"%s\" (%s): no version", d->name, file);
        return -1;
    }
    if (d->kind != PN_KIND_NAMESPACE && d->kind != PN_KIND_EXTENSION) {
        say(err, errlen, "plugin \"%s\" (%s): unknown kind %d", d->name, file, (int)d->kind);
        return -1;
    }
    if (d->init == NULL) {
        say(err, errlen, "plugin \"%s\" (%s): no init function", d->name, file);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i]->name, d->name) == 0) {
            say(err, errlen, "plugin \"%s\" (%s): name already used by %s", d->name, file,
                l->items[i]->path);
            return -1;
        }
    return 0;
}

int
pnk_loader_open(pnk_loader_t *l, const char *path, char *err, size_t errlen)
{
    struct stat st;
    void *dl;
    const pn_plugin_t *(*entry)(void);
    const pn_plugin_t *d;

    if (stat(path, &st) != 0) {
        say(err, errlen, "plugin %s: %s", path,
            errno == ENOENT ? "file not found" : strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) || !is_elf(path)) {
        say(err, errlen, "plugin %s: not a shared object", path);
        return -1;
    }
    /* NOW: an unresolved symbol fails here, not mid-request. LOCAL: plugins cannot see each
     * other's symbols; they meet through named services. */
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (dl == NULL) {
        say(err, errlen, "plugin %s: cannot open: %s", path, dlerror());
        return -1;
    }
    *(void **)&entry = dlsym(dl, PN_PLUGIN_ENTRY);
    if (entry == NULL) {
        say(err, errlen, "plugin %s: not a Powernode plugin (no %s)", path, PN_PLUGIN_ENTRY);
        dlclose(dl);
        return -1;
    }
    d = entry();
    if (check_descriptor(l, path, d, err, errlen) != 0) {
        dlclose(dl);
        return -1;
    }
    pn_plugin_ctx_t *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->path = strdup(path)) == NULL ||
        asprintf(&p->config_section, "plugins.%s", d->name) < 0) {
        if (p)
            free(p->path);
        free(p);
        dlclose(dl);
        say(err, errlen, "plugin %s: out of memory", path);
        return -1;
    }
    p->dl = dl;
    p->desc = d;
    p->name = d->name;
    p->order = -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        pn_plugin_ctx_t **items = realloc(
            l->items, cap * sizeof(*items)); /* NOLINT(bugprone-sizeof-expression): pointers */
        if (items == NULL) {
            plugin_free(p);
            say(err, errlen, "plugin %s: out of memory", path);
            return -1;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = p;
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
pnk_loader_open_dir(pnk_loader_t *l, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (d == NULL) {
        say(err, errlen, "plugins folder %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0 || e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (nn == NULL) {
                rc = -1;
                break;
            }
            names = nn;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc != 0)
        say(err, errlen, "plugins folder %s: out of memory", dir);
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4096];
        (void)snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = pnk_loader_open(l, path, err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

pn_plugin_ctx_t *
pnk_loader_find(const pnk_loader_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i]->name, name) == 0)
            return l->items[i];
    return NULL;
}

/* Depth-first topological sort; `stack` holds the current path so a cycle can be named. */
static int
visit(pnk_loader_t *l, pn_plugin_ctx_t *p, char *mark, pn_plugin_ctx_t **stack, size_t depth,
      char *err, size_t errlen)
{
    size_t idx = 0;

    while (l->items[idx] != p)
        idx++;
    if (mark[idx] == 2)
        return 0;
    if (mark[idx] == 1) {
        size_t start = 0, off;
        while (stack[start] != p)
            start++;
        off = (size_t)snprintf(err, errlen, "plugin \"%s\": dependency cycle: ", p->name);
        for (size_t i = start; i < depth && off < errlen; i++)
            off += (size_t)snprintf(err + off, errlen - off, "%s -> ", stack[i]->name);
        if (off < errlen)
            (void)snprintf(err + off, errlen - off, "%s", p->name);
        return -1;
    }
    mark[idx] = 1;
    stack[depth] = p;
    for (const char *const *dep = p->desc->depends; dep && *dep; dep++) {
        pn_plugin_ctx_t *q = pnk_loader_find(l, *dep);
        if (q == NULL) {
            say(err, errlen, "plugin \"%s\": needs plugin \"%s\", which is not installed", p->name,
                *dep);
            return -1;
        }
        if (q->state == PNK_PLUGIN_DISABLED) {
            say(err, errlen,
                "plugin \"%s\": needs plugin \"%s\", which is not enabled (plugins.%s.enabled "
                "or extensions.enabled in the config)",
                p->name, *dep, *dep);
            return -1;
        }
        if (visit(l, q, mark, stack, depth + 1, err, errlen) != 0)
            return -1;
    }
    mark[idx] = 2;
    p->order = (int)l->norder;
    l->order[l->norder++] = p;
    return 0;
}

int
pnk_loader_resolve(pnk_loader_t *l, const pnk_loader_policy_t *policy, char *err, size_t errlen)
{
    char *mark;
    pn_plugin_ctx_t **stack;
    int rc = 0;

    for (size_t i = 0; i < l->n; i++) {
        pn_plugin_ctx_t *p = l->items[i];
        bool optional = false;
        bool on = policy ? policy->enabled(policy->ud, p->name, p->desc->kind, &optional)
                         : p->desc->kind == PN_KIND_NAMESPACE;
        p->state = on ? PNK_PLUGIN_FOUND : PNK_PLUGIN_DISABLED;
        p->optional = optional;
    }
    free(l->order);
    l->norder = 0;
    l->order =
        calloc(l->n + 1, sizeof(*l->order)); /* NOLINT(bugprone-sizeof-expression): pointers */
    mark = calloc(l->n + 1, 1);
    stack = calloc(l->n + 1, sizeof(*stack)); /* NOLINT(bugprone-sizeof-expression): pointers */
    if (l->order == NULL || mark == NULL || stack == NULL) {
        say(err, errlen, "plugin loader: out of memory");
        rc = -1;
    }
    for (size_t i = 0; i < l->n && rc == 0; i++)
        if (l->items[i]->state != PNK_PLUGIN_DISABLED)
            rc = visit(l, l->items[i], mark, stack, 0, err, errlen);
    free(mark);
    free(stack);
    l->resolved = rc == 0;
    return rc;
}

int
pnk_loader_init(pnk_loader_t *l, const pn_host_t *host,
                void (*on_fail)(void *ud, pn_plugin_ctx_t *p), void *ud, char *err, size_t errlen)
{
    if (!l->resolved) {
        say(err, errlen, "plugin loader: resolve before init");
        return -1;
    }
    for (size_t i = 0; i < l->norder; i++) {
        pn_plugin_ctx_t *p = l->order[i];
        const char *why = NULL;
        char buf[600];

        for (const char *const *dep = p->desc->depends; dep && *dep && !why; dep++) {
            pn_plugin_ctx_t *q = pnk_loader_find(l, *dep);
            if (q == NULL || q->state != PNK_PLUGIN_ACTIVE) {
                (void)snprintf(buf, sizeof buf, "dependency \"%s\" failed to initialise", *dep);
                why = buf;
            }
        }
        if (why == NULL) {
            *p->desc->host_slot = host;
            *p->desc->ctx_slot = p;
            p->last_error[0] = '\0';
            int rc = p->desc->init(p, host);
            if (rc == PN_OK) {
                p->state = PNK_PLUGIN_ACTIVE;
                PNK_INFO("loader", "plugin=%s version=%s kind=%s routes=%zu state=active", p->name,
                         p->desc->version, pnk_plugin_kind_name(p->desc->kind), p->route_count);
                continue;
            }
            (void)snprintf(buf, sizeof buf, "%s",
                           p->last_error[0] ? p->last_error
                                            : "init returned an error without a message");
            why = buf;
        }
        free(p->error);
        if (asprintf(&p->error, "init failed: %s", why) < 0)
            p->error = NULL;
        if (on_fail)
            on_fail(ud, p);
        if (!p->optional) {
            say(err, errlen, "plugin \"%s\": init failed: %s", p->name, why);
            return -1;
        }
        p->state = PNK_PLUGIN_FAILED;
        PNK_WARN("loader", "plugin=%s optional=true state=failed reason=\"%s\"", p->name, why);
    }
    return 0;
}

void
pnk_loader_fini(pnk_loader_t *l)
{
    if (l->finished)
        return;
    l->finished = true;
    for (size_t i = l->norder; i-- > 0;) {
        pn_plugin_ctx_t *p = l->order[i];
        if (p->state == PNK_PLUGIN_ACTIVE && p->desc->fini)
            p->desc->fini(p);
    }
}

size_t
pnk_loader_count(const pnk_loader_t *l)
{
    return l->n;
}

pn_plugin_ctx_t *
pnk_loader_at(const pnk_loader_t *l, size_t i)
{
    if (i < l->norder)
        return l->order[i];
    /* Then the plugins that are not in the init order, in discovery order. */
    size_t k = l->norder;
    for (size_t j = 0; j < l->n; j++) {
        if (l->items[j]->order >= 0)
            continue;
        if (k++ == i)
            return l->items[j];
    }
    return NULL;
}

bool
pnk_loader_extension_active(const pnk_loader_t *l, const char *name)
{
    pn_plugin_ctx_t *p = pnk_loader_find(l, name);
    return p && p->desc->kind == PN_KIND_EXTENSION && p->state == PNK_PLUGIN_ACTIVE;
}

const char *
pnk_plugin_state_name(pnk_plugin_state_t s)
{
    switch (s) {
    case PNK_PLUGIN_FOUND:
        return "loaded";
    case PNK_PLUGIN_DISABLED:
        return "disabled";
    case PNK_PLUGIN_ACTIVE:
        return "active";
    case PNK_PLUGIN_FAILED:
        return "failed";
    }
    return "unknown";
}

const char *
pnk_plugin_kind_name(pn_kind_t k)
{
    return k == PN_KIND_EXTENSION ? "extension" : "namespace";
}
