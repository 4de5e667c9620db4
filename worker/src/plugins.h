/*
 * Job plugins: load each .so named in the config, check its descriptor (one precise line on
 * refusal, like the server's loader), and index every job class by name.
 */
#ifndef PNW_PLUGINS_H
#define PNW_PLUGINS_H

#include <stddef.h>

#include <powernode/job.h>

typedef struct pnw_plugin {
    char *path;
    void *dl;
    const pn_job_plugin_t *desc;
    bool inited;
} pnw_plugin_t;

/* One class, copied out of the plugin's array (fields beyond its class_size are zero). */
typedef struct pnw_class {
    pn_job_class_t c;
    pnw_plugin_t *plugin;
    int index; /* position in the registry (execution tracking slot) */
} pnw_class_t;

typedef struct pnw_registry {
    pnw_plugin_t *plugins;
    size_t nplugins;
    pnw_class_t *classes;
    size_t nclasses;
} pnw_registry_t;

/* Open and check one plugin and add its classes. 0, or -1 with the one-line reason. */
int pnw_plugins_open(pnw_registry_t *r, const char *path, char *err, size_t errlen);
/* Call every plugin's init in load order with the host table. 0 or -1 + err. */
int pnw_plugins_init(pnw_registry_t *r, const pn_job_host_t *host, char *err, size_t errlen);
/* fini in reverse order, then close. */
void pnw_plugins_close(pnw_registry_t *r);
/* The class, or NULL. */
const pnw_class_t *pnw_plugins_find(const pnw_registry_t *r, const char *name);

#endif
