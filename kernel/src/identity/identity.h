/*
 * Administration of identity through the API: users, roles and their permissions, the
 * permission registry, API keys and the audit log. Sign-in and tokens are auth/'s; this area
 * only manages the rows. Routes and rules are in README.md.
 */
#ifndef PNK_IDENTITY_H
#define PNK_IDENTITY_H

#include <powernode/host.h>

/* The routes (owner "kernel") and the permissions they declare; system.c adds both. */
extern const pn_route_t pnk_identity_routes[];
extern const pn_perm_t pnk_identity_perms[];

#endif
