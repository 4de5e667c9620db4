/*
 * The plugin descriptor: the one thing a plugin exports. Include this header (it pulls in the
 * whole SDK), write your init/fini, and declare yourself with PN_PLUGIN(...). See docs/plugins.md.
 */
#ifndef POWERNODE_PLUGIN_H
#define POWERNODE_PLUGIN_H

#include <powernode/types.h>

/*
 * PN_PLUGIN_ABI is the major number of the contract between the server and plugins. It is
 * bumped on ANY incompatible change (a removed or reordered field or function, a changed
 * meaning). Appending to pn_host_t or to the structs plugins fill in does not bump it; those
 * growths are found through the size fields. The history is in ABI.md next to this header.
 */
#ifndef PN_PLUGIN_ABI
#define PN_PLUGIN_ABI 1
#endif
/* (Defining PN_PLUGIN_ABI before this header is only for testing that the server refuses a
 * plugin built for another ABI; a real plugin never does it.) */

/* The exported symbol the loader looks up with dlsym. It is a function, not a variable, so the
 * lookup works the same on every platform and the descriptor can be const. */
#define PN_PLUGIN_ENTRY "pn_plugin_entry"

#define PN_STR2_(x) #x
#define PN_STR_(x) PN_STR2_(x)
#if defined(__LP64__) || defined(_LP64)
#define PN_DATA_MODEL_ "lp64"
#else
#define PN_DATA_MODEL_ "ilp32"
#endif

/*
 * The ABI tag names everything besides our own ABI number that must match between server and
 * plugin for the binary contract to hold: the data model and the major version of Jansson,
 * whose json_t crosses the boundary. The loader compares it part by part (';'-separated) and
 * names the part that differs.
 */
#define PN_ABI_TAG                                                                                 \
    "pn" PN_STR_(PN_PLUGIN_ABI) ";" PN_DATA_MODEL_ ";jansson" PN_STR_(JANSSON_MAJOR_VERSION)

typedef enum pn_kind {
    PN_KIND_NAMESPACE = 1, /* a service namespace shipped with the platform (ai, files, ...) */
    PN_KIND_EXTENSION = 2, /* an optional extension switched on in config (business, ...) */
} pn_kind_t;

struct pn_host;

/*
 * The descriptor a plugin returns from pn_plugin_entry(). Fields are append-only; the loader
 * reads a field only when `size` says the plugin was built with it.
 */
typedef struct pn_plugin {
    /* PN_PLUGIN_ABI at build time. Must equal the server's, or the plugin is refused. */
    uint32_t abi;
    /* sizeof(pn_plugin_t) at build time: which fields below exist. */
    uint32_t size;
    /* PN_ABI_TAG at build time, compared part by part with the server's. */
    const char *abi_tag;
    /* Unique plugin name, [a-z][a-z0-9_]{0,31}: the log tag, the config section
     * (plugins.<name>) and the migration namespace. */
    const char *name;
    /* The plugin's own version (semver), shown in /api/v1/system/plugins and recorded with
     * each migration it applies. */
    const char *version;
    /* Namespace or extension; extensions are loaded only when enabled in config. */
    pn_kind_t kind;
    /* NULL-terminated list of plugin names that must be initialised first, or NULL. */
    const char *const *depends;
    /* Called once at start-up, on the main thread, after the dependencies' init. Register
     * routes, permissions, config keys, migrations and services here. Return PN_OK or a
     * negative code after logging the reason with PN_ERROR (the last error logged becomes the
     * loader's message). */
    int (*init)(pn_plugin_ctx_t *ctx, const struct pn_host *host);
    /* Called once at shutdown in reverse init order, after the last request has finished.
     * Free what init allocated. May be NULL. */
    void (*fini)(pn_plugin_ctx_t *ctx);
    /* Where the loader stores the host table and plugin context before init, so the SDK's
     * inline helpers (pn_reply_ok, PN_INFO, ...) work in every file of the plugin. Filled by
     * PN_PLUGIN; leave alone. */
    const struct pn_host **host_slot;
    pn_plugin_ctx_t **ctx_slot;
    /* One line saying what the plugin does, for /api/v1/system/plugins. May be NULL. */
    const char *summary;
    /* ---- ABI 1: append below this line only ---- */
} pn_plugin_t;

/* Set by the loader before init; the SDK helpers read them. One copy per plugin, hidden. */
extern PN_HIDDEN const struct pn_host *pn_host_;
extern PN_HIDDEN pn_plugin_ctx_t *pn_ctx_;

/*
 * Declare the plugin. Use once, in one file, at file scope:
 *   PN_PLUGIN(.name = "hello", .version = "1.0.0", .kind = PN_KIND_NAMESPACE, .init = hello_init);
 */
#define PN_PLUGIN(...)                                                                             \
    PN_HIDDEN const struct pn_host *pn_host_;                                                      \
    PN_HIDDEN pn_plugin_ctx_t *pn_ctx_;                                                            \
    PN_EXPORT const pn_plugin_t *pn_plugin_entry(void);                                            \
    PN_EXPORT const pn_plugin_t *pn_plugin_entry(void)                                             \
    {                                                                                              \
        static const pn_plugin_t d = {.abi = PN_PLUGIN_ABI,                                        \
                                      .size = sizeof(pn_plugin_t),                                 \
                                      .abi_tag = PN_ABI_TAG,                                       \
                                      .host_slot = &pn_host_,                                      \
                                      .ctx_slot = &pn_ctx_,                                        \
                                      __VA_ARGS__};                                                \
        return &d;                                                                                 \
    }                                                                                              \
    extern int pn_plugin_semicolon_

#include <powernode/host.h>
#include <powernode/reply.h>

#endif /* POWERNODE_PLUGIN_H */
