/*
 * The plugin loader: finds plugin .so files, checks each descriptor, decides what is enabled,
 * orders by dependency, runs init (and fini in reverse). Every refusal is one line naming the
 * file or plugin and exactly what is wrong. Runs on the main thread at start-up and shutdown.
 */
#ifndef PNK_LOADER_H
#define PNK_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <powernode/plugin.h>

typedef enum {
    PNK_PLUGIN_FOUND = 0, /* opened and checked, not yet initialised */
    PNK_PLUGIN_DISABLED,  /* present but switched off by config */
    PNK_PLUGIN_ACTIVE,    /* init succeeded */
    PNK_PLUGIN_FAILED,    /* init failed and the plugin was optional */
} pnk_plugin_state_t;

/* One loaded plugin; this is what pn_plugin_ctx_t points to. */
struct pn_plugin_ctx {
    char *path;
    void *dl;
    const pn_plugin_t *desc;
    const char *name; /* desc->name */
    pnk_plugin_state_t state;
    bool optional;
    char *error;          /* why it failed or is disabled; malloc'd */
    char last_error[512]; /* last ERROR line the plugin logged during init */
    char *sql_dir;        /* registered migrations folder, malloc'd */
    char *config_section; /* "plugins.<name>" */
    bool config_declared;
    size_t route_count;
    int order; /* position in init order, -1 when not initialised */
};

typedef struct pnk_loader pnk_loader_t;

typedef struct pnk_loader_policy {
    /* Return whether the plugin named `name` of `kind` is enabled, and whether it is optional. */
    bool (*enabled)(void *ud, const char *name, pn_kind_t kind, bool *optional);
    void *ud;
} pnk_loader_policy_t;

pnk_loader_t *pnk_loader_new(void);
/* Runs fini in reverse init order (if not done), unloads, frees. */
void pnk_loader_free(pnk_loader_t *l);

/* Open one file and check its descriptor. 0, or -1 with the one-line refusal in err. */
int pnk_loader_open(pnk_loader_t *l, const char *path, char *err, size_t errlen);
/* Open every *.so in dir (sorted by name); stops at the first refusal. A missing dir is an
 * error. 0 or -1 with err. */
int pnk_loader_open_dir(pnk_loader_t *l, const char *dir, char *err, size_t errlen);

/* Apply the enable policy, check dependencies and cycles, and compute the init order.
 * 0 or -1 with err ("plugin \"files\": needs plugin \"storage\", which is not enabled"). */
int pnk_loader_resolve(pnk_loader_t *l, const pnk_loader_policy_t *policy, char *err,
                       size_t errlen);

/* Init every enabled plugin in order with the host table. A failing optional plugin is marked
 * FAILED and its registrations undone by on_fail; a failing required one stops: -1 with
 * "plugin \"x\": init failed: <its message>". */
int pnk_loader_init(pnk_loader_t *l, const pn_host_t *host,
                    void (*on_fail)(void *ud, pn_plugin_ctx_t *p), void *ud, char *err,
                    size_t errlen);
/* fini in reverse order; idempotent. */
void pnk_loader_fini(pnk_loader_t *l);

size_t pnk_loader_count(const pnk_loader_t *l);
/* Plugins in init order first (active/failed), then the rest in discovery order. */
pn_plugin_ctx_t *pnk_loader_at(const pnk_loader_t *l, size_t i);
pn_plugin_ctx_t *pnk_loader_find(const pnk_loader_t *l, const char *name);
/* Whether `name` is loaded, of kind extension, and active. */
bool pnk_loader_extension_active(const pnk_loader_t *l, const char *name);

const char *pnk_plugin_state_name(pnk_plugin_state_t s);
const char *pnk_plugin_kind_name(pn_kind_t k);

#endif
