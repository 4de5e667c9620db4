/* Opening a library on first use instead of linking it (curlload.c, cryptoload.c): dlopen of
 * its soname, then each named symbol into the slot of a function table. */
#ifndef PNW_DLLOAD_H
#define PNW_DLLOAD_H

#include <stddef.h>

typedef struct pnw_dlsym {
    const char *name;
    void **slot; /* a function pointer's address: POSIX lets dlsym's void * convert to it */
} pnw_dlsym_t;

/* 0 with every slot filled, or -1 with why ("cannot open S: ...", "S has no NAME"). The
 * library stays open either way: dlclose of a half-used library buys nothing. */
int pnw_dlopen_syms(const char *soname, const pnw_dlsym_t *syms, size_t n, char *why,
                    size_t whylen);

#endif
