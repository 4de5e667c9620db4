/*
 * Which account a request acts on: the caller's own, or, for a caller holding admin.files.read
 * (reads) or admin.files.manage (changes), the account an explicit ?account_id= names.
 */
#include <strings.h>

#include "files.h"
#include "files_names.h"

int
files_scope_account(pn_req_t *req, bool manage, const char **account)
{
    const char *own = pn_host_->req_account_id(req);
    const char *want = pn_req_query(req, "account_id");
    const char *perm = manage ? FILES_ADMIN_MANAGE : FILES_ADMIN_READ;

    *account = own;
    if (own == NULL)
        return pn_fail(req, PN_E_FORBIDDEN, "an account is required");
    if (want == NULL || strcasecmp(want, own) == 0)
        return PN_OK;
    if (!files_is_uuid(want)) {
        pn_fail_field(req, "account_id", "must be a uuid");
        return pn_fail(req, PN_E_INVALID, "invalid query parameter account_id");
    }
    /* Only this explicit query reaches across accounts: a foreign id alone stays a 404. */
    if (!pn_host_->req_can(req, perm))
        return pn_fail(req, PN_E_FORBIDDEN, "permission %s is required to %s another account", perm,
                       manage ? "change" : "read");
    *account = want;
    return PN_OK;
}
