/* Signing access, service and second-step (mfa) tokens with the configured keys; the ids come
 * from pnk_uuid_v7. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "auth_int.h"

int
pnk_auth_issue_access(const char *user_id, const char *account_id, const char *session,
                      char **token, int *expires_in, char jti_out[37], char *err, size_t errlen)
{
    char jti[37];
    int access_ttl = 0;
    const pnk_jwt_t *ring = pnk_auth_ring(&access_ttl);
    *token = NULL;
    if (!ring) {
        (void)snprintf(err, errlen, "auth not initialised");
        return PN_E_INTERNAL;
    }
    pnk_uuid_v7(jti);
    int rc = pnk_jwt_issue(ring, "access", user_id, account_id, jti, session, (int64_t)time(NULL),
                           access_ttl, token, err, errlen);
    if (rc != PN_OK)
        return rc;
    if (expires_in)
        *expires_in = access_ttl;
    if (jti_out)
        memcpy(jti_out, jti, sizeof jti);
    return PN_OK;
}

int
pnk_auth_issue_service(const char *name, int ttl, char **token, char *err, size_t errlen)
{
    char jti[37];
    const pnk_jwt_t *ring = pnk_auth_ring(NULL);
    *token = NULL;
    if (!ring) {
        (void)snprintf(err, errlen, "auth not initialised");
        return PN_E_INTERNAL;
    }
    pnk_uuid_v7(jti);
    return pnk_jwt_issue(ring, "service", name, NULL, jti, NULL, (int64_t)time(NULL), ttl, token,
                         err, errlen);
}

int
pnk_auth_issue_mfa(const char *user_id, const char *account_id, char **token, char *err,
                   size_t errlen)
{
    char jti[37];
    const pnk_jwt_t *ring = pnk_auth_ring(NULL);
    *token = NULL;
    if (!ring) {
        (void)snprintf(err, errlen, "auth not initialised");
        return PN_E_INTERNAL;
    }
    pnk_uuid_v7(jti);
    return pnk_jwt_issue(ring, "mfa", user_id, account_id, jti, NULL, (int64_t)time(NULL),
                         PNK_AUTH_MFA_TTL, token, err, errlen);
}
