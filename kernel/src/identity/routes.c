/* The identity routes with their body schemas, and the permissions they declare. */
#include "identity.h"
#include "identity_int.h"

/*
 * The auth. and audit. permissions fall to members by the permission sync (auth.h): managing
 * your own API keys and reading your own audit rows. Everything that touches other users is
 * in admin., which members never get.
 */
const pn_perm_t pnk_identity_perms[] = {
    {"admin.users.read", "See the account's users", "Administration"},
    {"admin.users.manage", "Create, change, disable and delete users", "Administration"},
    {"admin.roles.read", "See roles and their permissions", "Administration"},
    {"admin.roles.manage", "Create, change and delete roles and their permissions",
     "Administration"},
    {"admin.api_keys.manage", "See and revoke other users' API keys", "Administration"},
    {"admin.audit_logs.read", "Read every user's audit rows in the account", "Administration"},
    {"audit.logs.read", "Read your own audit rows", "Account"},
    {"auth.api_keys.manage", "Create, list and revoke your own API keys", "Account"},
    PN_PERM_END,
};

#define UUID_ARRAY                                                                                 \
    "{\"type\":\"array\",\"maxItems\":50,\"items\":{\"type\":\"string\",\"format\":\"uuid\"}}"
#define PERM_ARRAY                                                                                 \
    "{\"type\":\"array\",\"maxItems\":500,\"items\":{\"type\":\"string\",\"minLength\":5,"         \
    "\"maxLength\":200}}"

static const char user_create_schema[] =
    "{\"type\":\"object\",\"required\":[\"email\"],\"additionalProperties\":false,"
    "\"properties\":{"
    "\"email\":{\"type\":\"string\",\"format\":\"email\",\"maxLength\":254},"
    "\"name\":{\"type\":\"string\",\"maxLength\":200},"
    "\"password\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"active\",\"invited\"]},"
    "\"roles\":" UUID_ARRAY "}}";

static const char user_update_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"name\":{\"type\":\"string\",\"maxLength\":200},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"active\",\"disabled\"]},"
    "\"roles\":" UUID_ARRAY "}}";

static const char role_create_schema[] =
    "{\"type\":\"object\",\"required\":[\"name\"],\"additionalProperties\":false,"
    "\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
    "\"description\":{\"type\":\"string\",\"maxLength\":1000},"
    "\"permissions\":" PERM_ARRAY "}}";

static const char role_update_schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
    "\"description\":{\"type\":\"string\",\"maxLength\":1000}}}";

static const char role_perms_schema[] =
    "{\"type\":\"object\",\"required\":[\"permissions\"],\"additionalProperties\":false,"
    "\"properties\":{\"permissions\":" PERM_ARRAY "}}";

static const char apikey_create_schema[] =
    "{\"type\":\"object\",\"required\":[\"name\",\"permissions\"],"
    "\"additionalProperties\":false,\"properties\":{"
    "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
    "\"permissions\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":100,"
    "\"items\":{\"type\":\"string\",\"minLength\":5,\"maxLength\":200}},"
    "\"expires_at\":{\"type\":\"string\",\"format\":\"date-time\"}}}";

#define TS "{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}"
#define ID "{\"type\":\"string\",\"format\":\"uuid\"}"

#define USER_RESP                                                                                  \
    "{\"type\":\"object\",\"properties\":{\"id\":" ID ",\"account_id\":" ID ","                    \
    "\"email\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"                              \
    "\"status\":{\"type\":\"string\",\"enum\":[\"active\",\"disabled\",\"invited\"]},"             \
    "\"totp_enabled\":{\"type\":\"boolean\"},\"locked_until\":" TS ",\"last_login_at\":" TS ","    \
    "\"created_at\":" TS ",\"updated_at\":" TS ","                                                 \
    "\"roles\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"                \
    "\"id\":" ID ",\"name\":{\"type\":\"string\"},\"system\":{\"type\":\"boolean\"}}}}}}"

#define ROLE_RESP                                                                                  \
    "{\"type\":\"object\",\"properties\":{\"id\":" ID ","                                          \
    "\"account_id\":{\"type\":[\"string\",\"null\"],\"format\":\"uuid\"},"                         \
    "\"name\":{\"type\":\"string\"},\"description\":{\"type\":\"string\"},"                        \
    "\"system\":{\"type\":\"boolean\"},\"all_permissions\":{\"type\":\"boolean\"},"                \
    "\"permissions\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"                        \
    "\"user_count\":{\"type\":\"integer\"},\"created_at\":" TS ",\"updated_at\":" TS "}}"

#define KEY_RESP                                                                                   \
    "{\"type\":\"object\",\"properties\":{\"id\":" ID ",\"user_id\":" ID ","                       \
    "\"name\":{\"type\":\"string\"},\"prefix\":{\"type\":\"string\"},"                             \
    "\"masked\":{\"type\":\"string\"},"                                                            \
    "\"permissions\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"                        \
    "\"created_at\":" TS ",\"last_used_at\":" TS ",\"expires_at\":" TS ",\"revoked_at\":" TS ","   \
    "\"active\":{\"type\":\"boolean\"},"                                                           \
    "\"key\":{\"type\":\"string\",\"description\":\"Only in the creation reply\"}}}"

#define AUDIT_RESP                                                                                 \
    "{\"type\":\"object\",\"properties\":{\"id\":" ID ",\"account_id\":" ID ","                    \
    "\"user_id\":{\"type\":[\"string\",\"null\"],\"format\":\"uuid\"},"                            \
    "\"action\":{\"type\":\"string\"},\"target_type\":{\"type\":[\"string\",\"null\"]},"           \
    "\"target_id\":{\"type\":[\"string\",\"null\"]},\"ip\":{\"type\":[\"string\",\"null\"]},"      \
    "\"user_agent\":{\"type\":[\"string\",\"null\"]},"                                             \
    "\"result\":{\"type\":\"string\",\"enum\":[\"success\",\"failure\",\"denied\"]},"              \
    "\"details\":{\"type\":\"object\"},\"created_at\":" TS "}}"

#define LIST_OF(x) "{\"type\":\"array\",\"items\":" x "}"
#define DELETED "{\"type\":\"object\",\"properties\":{\"id\":" ID ",\"deleted\":{\"const\":true}}}"

static const char perms_resp[] =
    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"category\":{\"type\":\"string\"},\"permissions\":{\"type\":\"array\",\"items\":{"
    "\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"description\":{\"type\":\"string\"},\"owner\":{\"type\":\"string\"},"
    "\"held\":{\"type\":\"boolean\"}}}}}}}";

#define R(m_, path_, perm_, fn_, sum_, req_, resp_)                                                \
    {                                                                                              \
        .method = (m_), .path = (path_), .perm = (perm_), .fn = (fn_), .summary = (sum_),          \
        .max_body = PN_KIB(64), .req_schema = (req_), .resp_schema = (resp_)                       \
    }

const pn_route_t pnk_identity_routes[] = {
    R(PN_GET, "/api/v1/users", "admin.users.read", pnk_identity_users_list,
      "Users of the account; filters q, status, role; page, per_page, sort", NULL,
      LIST_OF(USER_RESP)),
    R(PN_POST, "/api/v1/users", "admin.users.manage", pnk_identity_users_create,
      "Create a user (active with a password, or invited) with roles", user_create_schema,
      USER_RESP),
    R(PN_GET, "/api/v1/users/:id", "admin.users.read", pnk_identity_users_get, "One user", NULL,
      USER_RESP),
    R(PN_PATCH, "/api/v1/users/:id", "admin.users.manage", pnk_identity_users_update,
      "Change a user's name, status or roles", user_update_schema, USER_RESP),
    R(PN_DELETE, "/api/v1/users/:id", "admin.users.manage", pnk_identity_users_delete,
      "Delete a user", NULL, DELETED),
    R(PN_GET, "/api/v1/roles", "admin.roles.read", pnk_identity_roles_list,
      "System roles and the account's roles with their permissions", NULL, LIST_OF(ROLE_RESP)),
    R(PN_POST, "/api/v1/roles", "admin.roles.manage", pnk_identity_roles_create,
      "Create a custom role", role_create_schema, ROLE_RESP),
    R(PN_GET, "/api/v1/roles/:id", "admin.roles.read", pnk_identity_roles_get, "One role", NULL,
      ROLE_RESP),
    R(PN_PATCH, "/api/v1/roles/:id", "admin.roles.manage", pnk_identity_roles_update,
      "Rename or describe a custom role", role_update_schema, ROLE_RESP),
    R(PN_DELETE, "/api/v1/roles/:id", "admin.roles.manage", pnk_identity_roles_delete,
      "Delete a custom role", NULL, DELETED),
    R(PN_PUT, "/api/v1/roles/:id/permissions", "admin.roles.manage", pnk_identity_roles_set_perms,
      "Replace a custom role's permissions", role_perms_schema, ROLE_RESP),
    R(PN_GET, "/api/v1/permissions", "auth.me.read", pnk_identity_permissions_list,
      "The permission registry by category, with whether you hold each", NULL, perms_resp),
    R(PN_GET, "/api/v1/api_keys", "auth.api_keys.manage", pnk_identity_apikeys_list,
      "Your API keys (admins: ?user_id=), masked", NULL, LIST_OF(KEY_RESP)),
    R(PN_POST, "/api/v1/api_keys", "auth.api_keys.manage", pnk_identity_apikeys_create,
      "Create an API key with some of your permissions; the key is shown only here",
      apikey_create_schema, KEY_RESP),
    R(PN_DELETE, "/api/v1/api_keys/:id", "auth.api_keys.manage", pnk_identity_apikeys_revoke,
      "Revoke an API key", NULL, KEY_RESP),
    R(PN_GET, "/api/v1/audit_logs", "audit.logs.read", pnk_identity_audit_list,
      "Audit rows, newest first; filters user_id, action (prefix), result, target_type, "
      "target_id, from, to; page, per_page or before",
      NULL, LIST_OF(AUDIT_RESP)),
    PN_ROUTE_END,
};
