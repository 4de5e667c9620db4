/*
 * Start-up and command-line work on the identity tables through the pool (no request): the
 * permission registry sync with the system roles' grants, and the first administrator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_int.h"
#include "password.h"

#include "../core/log.h"

/* ---- a pooled connection with its own arena, for a few statements ---- */

typedef struct session {
    pnk_db_pool_t *pool;
    pnk_db_conn_t *conn;
    pnk_arena_t *arena;
} session_t;

static int
session_open(session_t *s, pnk_db_pool_t *p, char *err, size_t errlen)
{
    *s = (session_t){.pool = p};
    if (!p) {
        (void)snprintf(err, errlen, "no database pool");
        return PN_E_INTERNAL;
    }
    if (!(s->arena = pnk_arena_new(0))) {
        (void)snprintf(err, errlen, "out of memory");
        return PN_E_INTERNAL;
    }
    int rc = pnk_db_acquire(p, &s->conn, err, errlen);
    if (rc == PN_OK)
        rc = pnk_db_begin(s->conn, err, errlen);
    return rc;
}

/* Commit when rc is PN_OK (which may still fail), roll back otherwise; release everything. */
static int
session_close(session_t *s, int rc, char *err, size_t errlen)
{
    if (s->conn) {
        if (rc == PN_OK)
            rc = pnk_db_commit(s->conn, err, errlen);
        else if (pnk_db_in_tx(s->conn)) {
            char ignored[64];
            (void)pnk_db_rollback(s->conn, ignored, sizeof ignored);
        }
        pnk_db_release(s->pool, s->conn);
    }
    pnk_arena_free(s->arena);
    return rc;
}

static int
run(session_t *s, const char *sql, int n, const char *const *params, pn_rows_t **rows, char *err,
    size_t errlen)
{
    return pnk_db_exec(s->conn, sql, n, params, s->arena, rows, err, errlen);
}

/* ---- permission registry ---- */

/* "<ns>.<resource>.<verb>", lower case, at least three parts (same as the table's CHECK). */
static bool
perm_name_ok(const char *s)
{
    int parts = 0;
    const char *p = s;
    for (;;) {
        if (!(*p >= 'a' && *p <= 'z'))
            return false;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
            p++;
        parts++;
        if (*p == '\0')
            return parts >= 3 && p - s <= 200;
        if (*p++ != '.')
            return false;
    }
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The system roles' share; see auth.h. "admin." is the namespace of server administration,
 * which members do not get; viewers get the read-only part of what members get, plus the
 * self-service "auth.self." (a viewer must still be able to sign out and change a password). */
static bool
member_gets(const char *name)
{
    return strncmp(name, "admin.", 6) != 0;
}

static bool
viewer_gets(const char *name)
{
    return member_gets(name) && (ends_with(name, ".read") || strncmp(name, "auth.self.", 10) == 0);
}

typedef struct decl {
    const pn_perm_t *perm;
    const char *owner;
} decl_t;

static int
cmp_decl(const void *a, const void *b)
{
    return strcmp(((const decl_t *)a)->perm->name, ((const decl_t *)b)->perm->name);
}

/* Check and sort the declarations. *out is malloc'd. */
static int
collect(const pn_perm_t *const *perms, const char *const *owners, size_t n, decl_t **out, char *err,
        size_t errlen)
{
    decl_t *d = calloc(n ? n : 1, sizeof *d);
    if (!d) {
        (void)snprintf(err, errlen, "out of memory");
        return PN_E_INTERNAL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *owner = owners ? owners[i] : "kernel";
        if (!perms[i] || !perms[i]->name || !owner || !owner[0]) {
            (void)snprintf(err, errlen, "permission %zu has no name or no owner", i);
            free(d);
            return PN_E_INVALID;
        }
        if (!perm_name_ok(perms[i]->name)) {
            (void)snprintf(err, errlen, "%s: permission \"%s\" is not <ns>.<resource>.<verb>",
                           owner, perms[i]->name);
            free(d);
            return PN_E_INVALID;
        }
        d[i] = (decl_t){perms[i], owner};
    }
    if (n > 1)
        qsort(d, n, sizeof *d, cmp_decl);
    for (size_t i = 1; i < n; i++)
        if (strcmp(d[i - 1].perm->name, d[i].perm->name) == 0) {
            (void)snprintf(err, errlen, "permission \"%s\" is declared by both %s and %s",
                           d[i].perm->name, d[i - 1].owner, d[i].owner);
            free(d);
            return PN_E_INVALID;
        }
    *out = d;
    return PN_OK;
}

static char *
decls_json(const decl_t *d, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const pn_perm_t *p = d[i].perm;
        if (json_array_append_new(
                arr, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "name", p->name, "description",
                               p->description ? p->description : "", "category",
                               p->category ? p->category : "", "owner", d[i].owner, "viewer",
                               viewer_gets(p->name), "member", member_gets(p->name))) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return s;
}

static const char sql_upsert[] =
    "INSERT INTO permissions (name, description, category, owner)"
    " SELECT x->>'name', x->>'description', x->>'category', x->>'owner'"
    "   FROM jsonb_array_elements($1::jsonb) AS x"
    " ON CONFLICT (name) DO UPDATE"
    "    SET description = EXCLUDED.description, category = EXCLUDED.category,"
    "        owner = EXCLUDED.owner, updated_at = now()"
    "  WHERE (permissions.description, permissions.category, permissions.owner)"
    "        IS DISTINCT FROM (EXCLUDED.description, EXCLUDED.category, EXCLUDED.owner)";

static const char sql_grant[] =
    "INSERT INTO role_permissions (role_id, permission)"
    " SELECT r.id, x->>'name'"
    "   FROM jsonb_array_elements($1::jsonb) AS x"
    "   JOIN (VALUES ($2::uuid, 'viewer'), ($3::uuid, 'member')) AS r (id, flag)"
    "     ON (x->>r.flag)::boolean"
    " ON CONFLICT DO NOTHING";

int
pnk_auth_sync_permissions(pnk_db_pool_t *p, const pn_perm_t *const *perms,
                          const char *const *owners, size_t n, char *err, size_t errlen)
{
    decl_t *d = NULL;
    size_t count = n;
    int rc = collect(perms, owners, n, &d, err, errlen);
    if (rc != PN_OK)
        return rc;
    char *doc = decls_json(d, count);
    char **names = calloc(count ? count : 1, sizeof *names);
    for (size_t i = 0; names && i < count; i++)
        if (!(names[i] = strdup(d[i].perm->name))) {
            for (size_t k = 0; k < i; k++)
                free(names[k]);
            free(names);
            names = NULL;
        }
    free(d);
    if (!doc || !names) {
        free(doc);
        free(names);
        (void)snprintf(err, errlen, "out of memory");
        return PN_E_INTERNAL;
    }

    session_t s;
    rc = session_open(&s, p, err, errlen);
    const char *params[3] = {doc, PNK_ROLE_VIEWER_ID, PNK_ROLE_MEMBER_ID};
    if (rc == PN_OK)
        rc = run(&s, sql_upsert, 1, params, NULL, err, errlen);
    if (rc == PN_OK)
        rc = run(&s, sql_grant, 3, params, NULL, err, errlen);
    rc = session_close(&s, rc, err, errlen);
    free(doc);
    if (rc != PN_OK) {
        for (size_t i = 0; i < count; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    pnk_auth_registry_set(names, count); /* sorted by collect */
    PNK_INFO("auth", "permissions synced count=%zu", count);
    return PN_OK;
}

/* ---- first administrator ---- */

/* Loose on purpose: one '@' with something either side, no spaces or control bytes. */
static bool
email_ok(const char *e)
{
    size_t n = e ? strlen(e) : 0;
    const char *at = n ? strchr(e, '@') : NULL;
    if (n < 3 || n > 254 || !at || at == e || !at[1] || strchr(at + 1, '@'))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)e[i] <= ' ' || e[i] == 0x7f)
            return false;
    return true;
}

/* Serializes concurrent "create admin" runs so two of them cannot make two accounts. */
static const char sql_lock[] = "SELECT pg_advisory_xact_lock(7368190533110001)";

static int
ensure_account(session_t *s, char account_id[37], char *err, size_t errlen)
{
    pn_rows_t *rows = NULL;
    int rc = run(s, "SELECT id FROM accounts ORDER BY created_at, id LIMIT 1", 0, NULL, &rows, err,
                 errlen);
    if (rc != PN_OK)
        return rc;
    if (pnk_rows_count(rows) == 1) {
        (void)snprintf(account_id, 37, "%s", pnk_rows_value(rows, 0, 0));
        return PN_OK;
    }
    pnk_uuid_v7(account_id);
    const char *params[1] = {account_id};
    rc = run(s, "INSERT INTO accounts (id, name, slug) VALUES ($1, 'Default', 'default')", 1,
             params, NULL, err, errlen);
    if (rc == PN_OK)
        PNK_INFO("auth", "core account created id=%s", account_id);
    return rc;
}

static int
insert_admin(session_t *s, const char *account_id, const char *email, const char *hash,
             bool *created, char *err, size_t errlen)
{
    pn_rows_t *rows = NULL;
    const char *find[2] = {account_id, email};
    int rc = run(s, "SELECT id FROM users WHERE account_id = $1 AND lower(email) = lower($2)", 2,
                 find, &rows, err, errlen);
    if (rc != PN_OK || pnk_rows_count(rows) > 0)
        return rc;

    char user_id[37];
    pnk_uuid_v7(user_id);
    const char *user[4] = {user_id, account_id, email, hash};
    const char *role[2] = {user_id, PNK_ROLE_ADMIN_ID};
    rc = run(s,
             "INSERT INTO users (id, account_id, email, name, password_hash, status,"
             "                   password_changed_at)"
             " VALUES ($1, $2, $3, 'Administrator', $4, 'active', now())",
             4, user, NULL, err, errlen);
    if (rc == PN_OK)
        rc = run(s, "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)", 2, role, NULL, err,
                 errlen);
    if (rc == PN_OK) {
        *created = true;
        PNK_INFO("auth", "administrator created user=%s account=%s", user_id, account_id);
    }
    return rc;
}

int
pnk_auth_create_admin(pnk_db_pool_t *p, const char *email, const char *password, char *generated,
                      size_t gen_len, bool *created, char *err, size_t errlen)
{
    char hash[PNK_PASSWORD_HASH_MAX];
    int rc;

    *created = false;
    if (generated && gen_len)
        generated[0] = '\0';
    if (!email_ok(email)) {
        (void)snprintf(err, errlen, "admin email is not a valid address");
        return PN_E_INVALID;
    }
    if (!password) {
        if (!generated || gen_len < PNK_PASSWORD_GEN_LEN + 1) {
            (void)snprintf(err, errlen, "no room for a generated password");
            return PN_E_INVALID;
        }
        if ((rc = pnk_password_generate(generated, gen_len)) != PN_OK) {
            (void)snprintf(err, errlen, "cannot generate a password");
            return rc;
        }
        password = generated;
    } else if ((rc = pnk_password_check_policy(password, strlen(password), err, errlen)) != PN_OK) {
        return rc;
    }
    /* Hash before the transaction: argon2 takes tens of milliseconds and holds no lock. */
    if ((rc = pnk_password_hash(password, strlen(password), hash, sizeof hash, err, errlen)) !=
        PN_OK)
        return rc;

    session_t s;
    char account_id[37];
    rc = session_open(&s, p, err, errlen);
    if (rc == PN_OK)
        rc = run(&s, sql_lock, 0, NULL, NULL, err, errlen);
    if (rc == PN_OK)
        rc = ensure_account(&s, account_id, err, errlen);
    if (rc == PN_OK)
        rc = insert_admin(&s, account_id, email, hash, created, err, errlen);
    rc = session_close(&s, rc, err, errlen);
    if (rc != PN_OK)
        *created = false;
    if (!*created && generated && gen_len)
        generated[0] = '\0';
    return rc;
}
