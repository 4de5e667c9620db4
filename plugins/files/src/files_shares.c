/*
 * Share links: create (expiry, download limit, optional argon2id password), list, revoke, and
 * the public route that serves a share without login. Downloads are counted by one
 * conditional UPDATE, so concurrent requests can never pass the limit; wrong passwords are
 * throttled per share and per client address in Redis before any hash is computed.
 */
#include <argon2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "files_crypto.h"
#include "files_names.h"

#define DB pn_host_

static const char share_cols[] =
    "s.id, s.file_object_id, s.share_type, s.access_level, s.status, s.expires_at, "
    "s.max_downloads, s.download_count, (s.password_hash IS NOT NULL) AS password_protected, "
    "s.last_accessed_at, s.revoked_at, s.created_by_id, s.created_at";

static int
hash_password(pn_req_t *req, const char *pw, char **out)
{
    unsigned char salt[16];
    char enc[160];
    char tok[44];

    /* 16 salt bytes from the token generator's CSPRNG */
    if (files_random_token(tok) != 0)
        return pn_fail(req, PN_E_INTERNAL, "no randomness");
    memcpy(salt, tok, sizeof salt);
    if (argon2id_hash_encoded(2, 19456, 1, pw, strlen(pw), salt, sizeof salt, 32, enc,
                              sizeof enc) != ARGON2_OK)
        return pn_fail(req, PN_E_INTERNAL, "password hashing failed");
    *out = DB->req_strdup(req, enc);
    return PN_OK;
}

int
files_h_share_create(pn_req_t *req)
{
    const char *account = DB->req_account_id(req);
    const char *id = pn_req_param(req, "id");
    json_t *body = pn_req_json(req);
    char token[44], hash[65], sid[37];
    char *pwhash = NULL, exp_in[24] = "", maxd[16] = "";
    pn_rows_t *rows;
    int rc;
    json_t *f = files_file_get(req, account, id, false);

    if (f == NULL)
        return PN_E_NOTFOUND;
    json_decref(f);
    const char *pw = files_str(body, "password");
    const char *expires_at = files_str(body, "expires_at");
    json_t *ein = json_object_get(body, "expires_in");
    json_t *md = json_object_get(body, "max_downloads");
    if (expires_at && ein) {
        pn_fail_field(req, "expires_in", "give expires_at or expires_in, not both");
        return pn_fail(req, PN_E_INVALID, "invalid expiry");
    }
    if (ein)
        (void)snprintf(exp_in, sizeof exp_in, "%lld", (long long)json_integer_value(ein));
    if (md)
        (void)snprintf(maxd, sizeof maxd, "%lld", (long long)json_integer_value(md));
    if (pw && (rc = hash_password(req, pw, &pwhash)) != PN_OK)
        return rc;
    if (files_random_token(token) != 0)
        return pn_fail(req, PN_E_INTERNAL, "no randomness");
    files_sha256_hex(token, strlen(token), hash);
    DB->uuid_v7(sid);
    rc =
        pn_db_query(req, &rows,
                    "INSERT INTO file_shares (id, account_id, file_object_id, token_hash, "
                    "expires_at, max_downloads, password_hash, created_by_id) "
                    "SELECT $1, $2, $3, $4, COALESCE($5::timestamptz, now() + "
                    "make_interval(secs => NULLIF($6, '')::bigint)), NULLIF($7, '')::integer, "
                    "$8, $9 WHERE COALESCE($5::timestamptz, now() + make_interval(secs => "
                    "NULLIF($6, '')::bigint), 'infinity') > now() RETURNING id",
                    sid, account, id, hash, expires_at, exp_in, maxd, pwhash, DB->req_user_id(req));
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0) {
        pn_fail_field(req, "expires_at", "must be in the future");
        return pn_fail(req, PN_E_INVALID, "invalid expiry");
    }
    rc = pn_db_query(req, &rows,
                     pn_req_printf(req, "SELECT %s FROM file_shares s WHERE s.id = $1", share_cols),
                     sid);
    if (rc != PN_OK)
        return rc;
    json_t *s = files_row0(req, rows);
    json_object_set_new(s, "token", json_string(token));
    json_object_set_new(s, "url",
                        json_string(pn_req_printf(req, "/api/v1/public/shares/%s", token)));
    DB->event_publish(req, FILES_CHANNEL, "file.shared",
                      json_pack("{s:s, s:s}", "id", id, "share_id", sid));
    return pn_reply_created(req, s);
}

int
files_h_shares_list(pn_req_t *req)
{
    const char *account = NULL;
    int src = files_scope_account(req, false, &account);
    const char *id = pn_req_param(req, "id");
    pn_rows_t *rows;
    json_t *f = src == PN_OK ? files_file_get(req, account, id, false) : NULL;

    if (src != PN_OK)
        return src;
    if (f == NULL)
        return PN_E_NOTFOUND;
    json_decref(f);
    int rc = pn_db_query(req, &rows,
                         pn_req_printf(req,
                                       "SELECT %s FROM file_shares s WHERE s.file_object_id = $1 "
                                       "AND s.account_id = $2 ORDER BY s.created_at DESC",
                                       share_cols),
                         id, account);
    return rc == PN_OK ? pn_reply_ok(req, DB->rows_json(rows)) : rc;
}

int
files_h_share_revoke(pn_req_t *req)
{
    const char *account = DB->req_account_id(req);
    const char *id = pn_req_param(req, "id"), *sid = pn_req_param(req, "share_id");
    pn_rows_t *rows;

    if (!files_is_uuid(id) || !files_is_uuid(sid))
        return pn_fail(req, PN_E_NOTFOUND, "share not found");
    int rc = pn_db_query(req, &rows,
                         "UPDATE file_shares SET status = 'revoked', revoked_at = "
                         "COALESCE(revoked_at, now()) WHERE id = $1 AND file_object_id = $2 "
                         "AND account_id = $3 RETURNING id",
                         sid, id, account);
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "share not found");
    DB->event_publish(req, FILES_CHANNEL, "file.share_revoked",
                      json_pack("{s:s, s:s}", "id", id, "share_id", sid));
    return pn_reply_empty(req);
}

/* ---- the public route ---- */

static bool
token_ok(const char *t)
{
    if (t == NULL || strlen(t) != 43)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              *t == '-' || *t == '_'))
            return false;
    return true;
}

/* The client's address without the port: the per-address counter must not reset with every
 * new connection, and behind a reverse proxy it must name the client, not the proxy (the
 * kernel reads X-Forwarded-For from http.trusted_proxies only). */
static const char *
peer_addr(pn_req_t *req)
{
    const char *p, *end;

    if (PN_HOST_HAS(DB, req_client_ip) && (p = DB->req_client_ip(req)) != NULL)
        return p;
    /* An older server: the TCP peer ("1.2.3.4:5678", "[::1]:5678"). */
    if ((p = DB->req_peer(req)) == NULL)
        return "unknown";
    if (p[0] == '[' && (end = strchr(p, ']')) != NULL)
        return pn_req_printf(req, "%.*s", (int)(end - p - 1), p + 1);
    end = strrchr(p, ':');
    return end ? pn_req_printf(req, "%.*s", (int)(end - p), p) : p;
}

/* Count one password attempt under key; PN_E_RATELIMIT once over limit in the window. The
 * counter starts with SET NX EX so it always carries its expiry, then INCR keeps the TTL. */
static int
attempt(pn_req_t *req, const char *key, int64_t limit)
{
    char win[24];
    json_t *r = NULL;
    int rc;

    (void)snprintf(win, sizeof win, "%lld", (long long)files_cfg.share_pw_window_s);
    const char *set[] = {"SET", key, "0", "EX", win, "NX"};
    if ((rc = DB->redis_command(req, 6, set, NULL, NULL)) != PN_OK)
        return rc;
    const char *incr[] = {"INCR", key};
    if ((rc = DB->redis_command(req, 2, incr, NULL, &r)) != PN_OK)
        return rc;
    if (json_integer_value(r) > limit) {
        pn_reply_header(req, "Retry-After", win);
        return pn_fail(req, PN_E_RATELIMIT, "too many password attempts; try again later");
    }
    return PN_OK;
}

int
files_h_public_share(pn_req_t *req)
{
    const char *token = pn_req_param(req, "token");
    char hash[65];
    pn_rows_t *rows;
    int rc;

    if (!token_ok(token))
        return pn_fail(req, PN_E_NOTFOUND, "share not found");
    files_sha256_hex(token, strlen(token), hash);
    rc = pn_db_query(req, &rows,
                     "SELECT s.id, s.account_id, s.status, "
                     "(s.expires_at IS NOT NULL AND s.expires_at <= now()) AS expired, "
                     "(s.max_downloads IS NOT NULL AND s.download_count >= s.max_downloads) "
                     "AS exhausted, s.password_hash, f.id AS file_id, f.filename, "
                     "v.id AS version_id, v.storage_id, v.storage_key, v.file_size, v.content_type "
                     "FROM file_shares s JOIN file_objects f ON f.id = s.file_object_id "
                     "AND f.deleted_at IS NULL JOIN file_versions v ON v.id = f.current_version_id "
                     "WHERE s.token_hash = $1",
                     hash);
    if (rc != PN_OK)
        return rc;
    if (pn_rows_count(rows) == 0)
        return pn_fail(req, PN_E_NOTFOUND, "share not found");
    json_t *s = DB->req_keep_json(req, files_row0(req, rows));
    const char *share_id = files_str(s, "id");
    if (strcmp(files_str(s, "status"), "active") != 0)
        return pn_fail(req, PN_E_GONE, "this share was revoked");
    if (json_is_true(json_object_get(s, "expired")))
        return pn_fail(req, PN_E_GONE, "this share has expired");
    if (json_is_true(json_object_get(s, "exhausted")))
        return pn_fail(req, PN_E_GONE, "this share's download limit is reached");
    const char *pwhash = files_str(s, "password_hash");
    if (pwhash) {
        const char *pw = pn_req_header(req, "X-Share-Password");
        if (pw == NULL && pn_req_json(req))
            pw = files_str(pn_req_json(req), "password");
        if (pw == NULL || *pw == '\0')
            return pn_fail(req, PN_E_UNAUTH, "this share needs a password");
        /* Throttle before the hash: guessing costs us nothing once over the limit. */
        if ((rc = attempt(req, pn_req_printf(req, "pn:files:sharepw:share:%s", share_id),
                          files_cfg.share_pw_per_share)) != PN_OK ||
            (rc = attempt(req, pn_req_printf(req, "pn:files:sharepw:ip:%s", peer_addr(req)),
                          files_cfg.share_pw_per_ip)) != PN_OK)
            return rc;
        if (strlen(pw) > 256 || argon2id_verify(pwhash, pw, strlen(pw)) != ARGON2_OK)
            return pn_fail(req, PN_E_UNAUTH, "wrong password");
    }
    if (DB->req_method(req) != PN_HEAD) {
        rc = pn_db_query(req, &rows,
                         "UPDATE file_shares SET download_count = download_count + 1, "
                         "last_accessed_at = now() WHERE id = $1 AND status = 'active' "
                         "AND (expires_at IS NULL OR expires_at > now()) "
                         "AND (max_downloads IS NULL OR download_count < max_downloads) "
                         "RETURNING download_count",
                         share_id);
        if (rc != PN_OK)
            return rc;
        if (pn_rows_count(rows) == 0)
            return pn_fail(req, PN_E_GONE, "this share's download limit is reached");
        /* A share download (always an attachment) is a download of the file too; ranges
         * are parts of one. */
        if (pn_req_header(req, "Range") == NULL)
            pn_db_query(req, NULL,
                        "UPDATE file_objects SET download_count = download_count + 1, "
                        "last_accessed_at = now() WHERE id = $1",
                        files_str(s, "file_id"));
    }
    return files_serve(req, files_str(s, "account_id"), files_str(s, "storage_id"),
                       files_str(s, "storage_key"), files_str(s, "version_id"),
                       (uint64_t)json_integer_value(json_object_get(s, "file_size")),
                       files_str(s, "content_type"), files_str(s, "filename"), "attachment");
}
