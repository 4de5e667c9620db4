/*
 * One source for every loader fixture: compile definitions pick the name, ABI number, tag,
 * kind, dependencies, and whether init fails or the entry point is missing.
 */
#include <powernode/plugin.h>

#ifndef FX_ABI
#define FX_ABI PN_PLUGIN_ABI
#endif
#ifdef FX_TAG_JANSSON3
#define FX_TAG "pn1;" PN_DATA_MODEL_ ";jansson3"
#else
#define FX_TAG PN_ABI_TAG
#endif
#ifndef FX_KIND
#define FX_KIND PN_KIND_NAMESPACE
#endif

static int
fx_init(pn_plugin_ctx_t *ctx, const struct pn_host *host)
{
    host->log(ctx, PN_LOG_INFO, "init %s", FX_NAME);
#ifdef FX_INIT_FAIL
    host->log(ctx, PN_LOG_ERROR, "plugins.%s.limit: 0 is below the minimum 1", FX_NAME);
    return PN_E_INVALID;
#else
    return PN_OK;
#endif
}

static void
fx_fini(pn_plugin_ctx_t *ctx)
{
    pn_host_->log(ctx, PN_LOG_INFO, "fini %s", FX_NAME);
}

#ifdef FX_DEPS
static const char *const fx_deps[] = {FX_DEPS, NULL};
#else
static const char *const *const fx_deps = NULL;
#endif

PN_HIDDEN const struct pn_host *pn_host_;
PN_HIDDEN pn_plugin_ctx_t *pn_ctx_;

#ifndef FX_NO_ENTRY
PN_EXPORT const pn_plugin_t *pn_plugin_entry(void);
PN_EXPORT const pn_plugin_t *
pn_plugin_entry(void)
{
    static const pn_plugin_t d = {
        .abi = FX_ABI,
        .size = sizeof(pn_plugin_t),
        .abi_tag = FX_TAG,
        .name = FX_NAME,
        .version = "1.0.0",
        .kind = FX_KIND,
        .depends = fx_deps,
        .init = fx_init,
        .fini = fx_fini,
        .host_slot = &pn_host_,
        .ctx_slot = &pn_ctx_,
    };
    return &d;
}
#else
/* Exports something, just not the entry point. */
PN_EXPORT const void *pn_something_else(void);
PN_EXPORT const void *
pn_something_else(void)
{
    static const void *const parts[] = {(const void *)fx_deps, (const void *)&fx_fini};
    return (const void *)fx_init == parts[0] ? NULL : parts;
}
#endif
