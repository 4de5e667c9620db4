/*
 * hello: the example plugin a third party starts from. It declares config keys, permissions,
 * a migration and three routes, and stores greetings in its own table scoped by account.
 * Built out of tree with nothing but `pkg-config powernode-plugin` (see Makefile).
 */
#include <powernode/plugin.h>
#include <string.h>

static int64_t max_message;
static const char *prefix;

static const pn_config_key_t hello_config[] = {
    {"prefix", PN_CFG_STRING, "Hello", 0, 64, "word put before every greeting"},
    {"max_message", PN_CFG_INT, "280", 1, 10000, "longest greeting accepted, in characters"},
    PN_CONFIG_END,
};

static const pn_perm_t hello_perms[] = {
    {"hello.greetings.read", "Read greetings", "Hello"},
    {"hello.greetings.create", "Create greetings", "Hello"},
    PN_PERM_END,
};

static const char greeting_schema[] =
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "\"message\":{\"type\":\"string\"},\"created_at\":{\"type\":\"string\"}}}";

static const char create_schema[] =
    "{\"type\":\"object\",\"required\":[\"message\"],\"additionalProperties\":false,"
    "\"properties\":{\"message\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":10000}}}";

static bool
looks_like_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static int
greeting_show(pn_req_t *req)
{
    const char *id = pn_req_param(req, "id");
    pn_rows_t *rows;
    int rc;

    /* Not a uuid cannot name a greeting: 404 without asking the database. */
    if (!looks_like_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "greeting not found");
    rc = pn_db_query(req, &rows,
                     "SELECT id, message, created_at FROM hello_greetings "
                     "WHERE id = $1 AND account_id = $2",
                     id, pn_host_->req_account_id(req));
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "greeting not found");
    json_t *list = pn_host_->req_keep_json(req, pn_host_->rows_json(rows));
    return pn_reply_ok(req, json_incref(json_array_get(list, 0)));
}

static int
greeting_create(pn_req_t *req)
{
    const char *message = json_string_value(json_object_get(pn_req_json(req), "message"));
    char id[37];
    pn_rows_t *rows;
    int rc;

    if ((int64_t)json_string_length(json_object_get(pn_req_json(req), "message")) > max_message) {
        pn_fail_field(req, "message", "must be at most %lld bytes", (long long)max_message);
        return pn_fail(req, PN_E_INVALID, "greeting too long");
    }
    pn_host_->uuid_v7(id);
    rc = pn_db_query(req, &rows,
                     "INSERT INTO hello_greetings (id, account_id, message) VALUES ($1, $2, $3) "
                     "RETURNING id, message, created_at",
                     id, pn_host_->req_account_id(req),
                     pn_req_printf(req, "%s, %s", prefix, message));
    if (rc != PN_OK)
        return rc;
    PN_INFO("greeting created id=%s", id);
    json_t *list = pn_host_->req_keep_json(req, pn_host_->rows_json(rows));
    /* Live event for this account's subscribers of channel hello.greetings (who need
     * hello.greetings.read); a failure to publish does not undo the greeting. */
    (void)pn_host_->event_publish(req, "hello.greetings", "greeting.created",
                                  json_pack("{s:s}", "id", id));
    return pn_reply_created(req, json_incref(json_array_get(list, 0)));
}

static int
greeting_list(pn_req_t *req)
{
    pn_rows_t *rows;
    int rc = pn_db_query(req, &rows,
                         "SELECT id, message, created_at FROM hello_greetings "
                         "WHERE account_id = $1 ORDER BY id DESC LIMIT 100",
                         pn_host_->req_account_id(req));

    return rc != PN_OK ? rc : pn_reply_ok(req, pn_host_->rows_json(rows));
}

static const pn_route_t hello_routes[] = {
    {PN_GET, "/api/v1/hello/greetings", "hello.greetings.read", greeting_list,
     "List this account's latest greetings", 0, NULL, NULL, 0},
    {PN_GET, "/api/v1/hello/greetings/:id", "hello.greetings.read", greeting_show,
     "Show one greeting", 0, NULL, greeting_schema, 0},
    {PN_POST, "/api/v1/hello/greetings", "hello.greetings.create", greeting_create,
     "Create a greeting", 16384, create_schema, greeting_schema, 0},
    PN_ROUTE_END,
};

static int
hello_init(pn_plugin_ctx_t *ctx, const pn_host_t *host)
{
    int rc;

    if ((rc = PN_ADD(host->config_declare, ctx, hello_config)) != PN_OK ||
        (rc = PN_ADD(host->perm_add, ctx, hello_perms)) != PN_OK ||
        (rc = PN_ADD(host->route_add, ctx, hello_routes)) != PN_OK ||
        (rc = host->sql_dir_add(ctx, "sql")) != PN_OK)
        return rc; /* the host has logged which one and why */
    max_message = host->config_int(ctx, "max_message");
    prefix = host->config_string(ctx, "prefix");
    return PN_OK;
}

PN_PLUGIN(.name = "hello", .version = "1.0.0", .kind = PN_KIND_NAMESPACE, .init = hello_init,
          .summary = "Example plugin: greetings stored per account");
