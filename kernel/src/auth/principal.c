/* Permission checks on a principal: a binary search over its sorted permission names. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static int
cmp_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

bool
pnk_principal_can(const pnk_principal_t *p, const char *perm)
{
    if (!p || !perm || !*perm)
        return false;
    if (p->kind != PNK_PRINCIPAL_USER && p->kind != PNK_PRINCIPAL_APIKEY)
        return false;
    if (p->all_perms)
        return true;
    if (!p->perms || p->nperms == 0)
        return false;
    return bsearch(perm, p->perms, p->nperms, sizeof p->perms[0], cmp_name) != NULL;
}
