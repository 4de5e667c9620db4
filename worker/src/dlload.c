/* One dlopen and its symbols (dlload.h). */
#include <dlfcn.h>
#include <stdio.h>

#include "dlload.h"

int
pnw_dlopen_syms(const char *soname, const pnw_dlsym_t *syms, size_t n, char *why, size_t whylen)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        (void)snprintf(why, whylen, "cannot open %s: %s", soname, e ? e : "not found");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
            (void)snprintf(why, whylen, "%s has no %s", soname, syms[i].name);
            return -1;
        }
    return 0;
}
