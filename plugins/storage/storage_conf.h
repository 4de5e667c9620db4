/*
 * Storage configurations at rest: which fields each provider type takes (and which of them are
 * credentials), sealing the credentials with AES-256-GCM under the plugin's master key, and the
 * masked view returned by the API. No host calls, so the unit tests link it directly.
 */
#ifndef STORAGE_CONF_H
#define STORAGE_CONF_H

#include "st.h"

/* ---- master key and sealing ---- */

typedef struct st_master {
    bool set;
    unsigned char k[32];
    char kid[17]; /* hex of the first 8 bytes of SHA-256(key): names the key in sealed blobs */
} st_master_t;

/* From 64 hex characters; "" leaves the key unset (credentialed providers are then refused). */
int st_master_parse(const char *hex, st_master_t *m, st_err_t *err);

/*
 * Seal a JSON object: {"alg":"A256GCM","kid":..,"nonce":b64(12),"ct":b64(ciphertext||tag)}.
 * `aad` binds the blob to its row (storage id and account), so a blob copied into another
 * row does not open. New reference, or NULL with err set.
 */
json_t *st_seal(const st_master_t *m, const json_t *plain, const char *aad, st_err_t *err);
/* The JSON object sealed in `sealed`, or NULL with err set (wrong key, tampered, other row). */
json_t *st_unseal(const st_master_t *m, const json_t *sealed, const char *aad, st_err_t *err);

/* ---- fields per provider ---- */

/* Whether `type` is a provider type we have. */
bool st_conf_known_type(const char *type);
/* Whether the type takes credentials (all but local). */
bool st_conf_has_secrets(const char *type);

/* Called once per problem found; field is "configuration.<name>". */
typedef void (*st_problem_fn)(void *ud, const char *field, const char *msg);

/* Check a complete configuration of `type`: no unknown field, each of the right JSON type and
 * length, enumerations respected, required ones present. Returns the number of problems. */
int st_conf_check(const char *type, json_t *conf, st_problem_fn fn, void *ud);

/* Split a configuration into its public fields and its credential fields (new objects). */
void st_conf_split(const char *type, json_t *conf, json_t **pub, json_t **secret);

/* The masked credential fields: identifiers as "AKID****1234", secrets as "********". */
json_t *st_conf_mask(const char *type, const json_t *secret);
/* One masked value (malloc'd). */
char *st_mask(const char *value, bool identifier);

#endif /* STORAGE_CONF_H */
