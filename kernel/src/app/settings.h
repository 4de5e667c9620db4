/* The kernel's configuration sections and the plugin enable policy. */
#ifndef PNK_SETTINGS_H
#define PNK_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include <powernode/plugin.h>

#include "../config/config.h"

/* Declare server, http, database, redis, log, paths and auth. 0 or -1 with err. */
int pnk_settings_declare(pnk_config_t *c, char *err, size_t errlen);
/* The loader's enable policy over the config (ud is the pnk_config_t). */
bool pnk_settings_plugin_enabled(void *ud, const char *name, pn_kind_t kind, bool *optional);

#endif
