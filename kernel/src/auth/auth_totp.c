/*
 * Two-factor sign-in: TOTP enrolment (setup, enable with recovery codes, disable) and the
 * second sign-in step. Secrets are sealed under the master key with the user id as context;
 * recovery codes are stored as HMAC-SHA256 under a key derived from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "auth_int.h"
#include "codec.h"
#include "guard.h"
#include "password.h"
#include "seal.h"
#include "signin.h"
#include "totp.h"

#include "../core/log.h"

#define RECOVERY_CODES 10
#define RECOVERY_BYTES 10 /* 80 bits: 16 base32 characters, shown as XXXX-XXXX-XXXX-XXXX */
#define APP_ISSUER "Powernode"

typedef struct totp_user {
    const char *sealed_hex; /* NULL when no secret is set */
    bool enabled;
    int64_t last_step;
    const char *password_hash, *email, *name, *account_id;
    bool locked;
    long lock_seconds;
} totp_user_t;

/* Percent-encode everything but RFC 3986 unreserved characters (the label of the URI). */
static char *
urlencode(pnk_arena_t *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = pnk_arena_alloc(a, strlen(s) * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* PN_E_NOTFOUND (without failing the request) when the user is not active. */
static int
load_user(pn_req_t *req, const char *user_id, const char *account_id, totp_user_t *u)
{
    const char *params[] = {user_id, account_id};
    pn_rows_t *rows = NULL;
    int rc = pnk_req_db_query(
        req,
        "SELECT encode(u.totp_secret_enc, 'hex'), u.totp_enabled,"
        "       coalesce(u.totp_last_step, -1), u.password_hash, u.email, u.name, u.account_id,"
        "       coalesce(u.locked_until > now(), false),"
        "       ceil(extract(epoch FROM u.locked_until - now()))::bigint"
        "  FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE u.id = $1 AND u.account_id = $2 AND u.status = 'active' AND a.status = 'active'",
        2, params, &rows);
    if (rc != PN_OK)
        return rc;
    if (pnk_rows_count(rows) != 1)
        return PN_E_NOTFOUND;
    *u = (totp_user_t){.sealed_hex = pnk_rows_value(rows, 0, 0),
                       .enabled = strcmp(pnk_rows_value(rows, 0, 1), "t") == 0,
                       .last_step = strtoll(pnk_rows_value(rows, 0, 2), NULL, 10),
                       .password_hash = pnk_rows_value(rows, 0, 3),
                       .email = pnk_rows_value(rows, 0, 4),
                       .name = pnk_rows_value(rows, 0, 5),
                       .account_id = pnk_rows_value(rows, 0, 6),
                       .locked = strcmp(pnk_rows_value(rows, 0, 7), "t") == 0};
    const char *secs = pnk_rows_value(rows, 0, 8);
    u->lock_seconds = secs ? strtol(secs, NULL, 10) : 0;
    return PN_OK;
}

/* The user's TOTP secret, opened; key must hold PNK_TOTP_SECRET_LEN bytes. */
static int
open_secret(pn_req_t *req, const char *user_id, const char *sealed_hex, unsigned char *key)
{
    unsigned char sealed[PNK_TOTP_SECRET_LEN + PNK_SEAL_OVERHEAD];
    size_t n = sealed_hex ? strlen(sealed_hex) / 2 : 0, len = 0;
    if (n != sizeof sealed || !pnk_codec_unhex(sealed_hex, sealed, n) ||
        pnk_seal_open(pnk_auth_policy()->master_key, sealed, n, user_id, key, PNK_TOTP_SECRET_LEN,
                      &len) != PN_OK ||
        len != PNK_TOTP_SECRET_LEN) {
        /* Another master key, or the column was changed: nobody can pass this factor. */
        PNK_ERROR("auth", "TOTP secret of user %s does not open under the master key", user_id);
        return pnk_fail(req, PN_E_INTERNAL, "two-factor secret unusable");
    }
    return PN_OK;
}

/* Check code and consume its step, so it works once: *ok. */
static int
use_code(pn_req_t *req, const char *user_id, const totp_user_t *u, const char *code, bool *ok)
{
    unsigned char key[PNK_TOTP_SECRET_LEN];
    *ok = false;
    int rc = open_secret(req, user_id, u->sealed_hex, key);
    if (rc != PN_OK)
        return rc;
    int64_t step = pnk_totp_check(key, sizeof key, code, (int64_t)time(NULL), u->last_step);
    OPENSSL_cleanse(key, sizeof key);
    if (step < 0)
        return PN_OK;
    char s[24];
    (void)snprintf(s, sizeof s, "%lld", (long long)step);
    const char *params[] = {user_id, s};
    pn_rows_t *rows = NULL;
    /* The condition makes two requests racing with one code succeed at most once. */
    rc = pnk_req_db_query(req,
                          "UPDATE users SET totp_last_step = $2::bigint WHERE id = $1"
                          "   AND (totp_last_step IS NULL OR totp_last_step < $2::bigint)"
                          " RETURNING id",
                          2, params, &rows);
    *ok = rc == PN_OK && pnk_rows_count(rows) == 1;
    return rc;
}

/* Recovery codes compare case-insensitively and without the dashes and spaces. */
static void
recovery_hash(const char *code, char out[65])
{
    char norm[65];
    size_t n = 0;
    for (const char *p = code; *p && n < sizeof norm - 1; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        char c = *p;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        norm[n++] = c;
    }
    unsigned char mac[32];
    pnk_codec_hmac256(pnk_auth_policy()->recovery_key, 32, norm, n, mac);
    pnk_codec_hex(mac, sizeof mac, out);
}

static int
use_recovery(pn_req_t *req, const char *user_id, const char *code, bool *ok)
{
    char hash[65];
    recovery_hash(code, hash);
    const char *params[] = {user_id, hash};
    pn_rows_t *rows = NULL;
    int rc = pnk_req_db_query(req,
                              "UPDATE user_recovery_codes SET used_at = now()"
                              " WHERE user_id = $1 AND code_hash = decode($2, 'hex')"
                              "   AND used_at IS NULL RETURNING id",
                              2, params, &rows);
    *ok = rc == PN_OK && pnk_rows_count(rows) == 1;
    return rc;
}

/* Either a TOTP code or a recovery code, exactly one: *ok; *method names the one used. */
static int
second_factor(pn_req_t *req, const char *user_id, const totp_user_t *u, bool *ok,
              const char **method)
{
    json_t *body = pnk_req_json(req);
    const char *code = json_string_value(json_object_get(body, "code"));
    const char *recovery = json_string_value(json_object_get(body, "recovery_code"));
    *ok = false;
    if ((code == NULL) == (recovery == NULL)) {
        pnk_fail_field(req, "code", "give either code or recovery_code");
        return pnk_fail(req, PN_E_INVALID, "either code or recovery_code is required");
    }
    *method = code ? "totp" : "recovery_code";
    return code ? use_code(req, user_id, u, code, ok) : use_recovery(req, user_id, recovery, ok);
}

int
pnk_auth_route_login_mfa(pn_req_t *req)
{
    int rc = pnk_guard_rate(req, "ip", pnk_req_client_ip(req), pnk_auth_policy()->rate_limit_ip);
    if (rc != PN_OK)
        return rc;
    const char *mfa = json_string_value(json_object_get(pnk_req_json(req), "mfa_token"));
    pnk_jwt_claims_t c;
    char why[128];
    if (!mfa || pnk_auth_verify_token(mfa, (int64_t)time(NULL), &c, why, sizeof why) != PN_OK ||
        strcmp(c.typ, "mfa") != 0) {
        PNK_INFO("auth", "mfa step refused reason=\"%s\"", mfa ? why : "no token");
        return pnk_fail(req, PN_E_UNAUTH, "invalid or expired mfa_token; sign in again");
    }
    if (!pnk_auth_policy()->two_factor)
        return pnk_signin_no_two_factor(req);
    totp_user_t u;
    if ((rc = load_user(req, c.sub, c.acct, &u)) == PN_E_NOTFOUND || (rc == PN_OK && !u.enabled))
        return pnk_fail(req, PN_E_UNAUTH, "invalid or expired mfa_token; sign in again");
    if (rc != PN_OK)
        return rc;
    if (u.locked) {
        pnk_signin_audit(req, "auth.login", "denied", c.acct, c.sub,
                         json_pack("{s:s, s:s}", "step", "mfa", "reason", "account locked"));
        return pnk_signin_locked(req, u.lock_seconds);
    }
    bool ok = false;
    const char *method = NULL;
    if ((rc = second_factor(req, c.sub, &u, &ok, &method)) != PN_OK)
        return rc;
    if (!ok) {
        bool locked = false;
        if ((rc = pnk_signin_failed(req, c.sub, c.acct, &locked)) != PN_OK)
            return rc;
        pnk_signin_audit(req, "auth.login", "failure", c.acct, c.sub,
                         json_pack("{s:s, s:s, s:s}", "step", "mfa", "method", method, "reason",
                                   "wrong or used code"));
        return pnk_fail(req, PN_E_UNAUTH, "invalid code");
    }
    return pnk_signin_complete(
        req, c.sub, c.acct, u.email, u.name, "auth.login",
        json_pack("{s:s, s:s}", "method", "password", "second_factor", method));
}

int
pnk_auth_route_totp_setup(pn_req_t *req)
{
    int rc = pnk_signin_need_user(req);
    if (rc != PN_OK)
        return rc;
    if (!pnk_auth_policy()->two_factor)
        return pnk_signin_no_two_factor(req);
    const char *user_id = req->principal.user_id;
    unsigned char key[PNK_TOTP_SECRET_LEN], sealed[PNK_TOTP_SECRET_LEN + PNK_SEAL_OVERHEAD];
    char b32[PNK_BASE32_LEN(PNK_TOTP_SECRET_LEN)], hex[2 * sizeof sealed + 1];
    size_t n = 0;
    if (!pnk_codec_random(key, sizeof key) ||
        pnk_seal(pnk_auth_policy()->master_key, key, sizeof key, user_id, sealed, sizeof sealed,
                 &n) != PN_OK) {
        OPENSSL_cleanse(key, sizeof key);
        return pnk_fail(req, PN_E_INTERNAL, "cannot make a two-factor secret");
    }
    pnk_codec_base32(key, sizeof key, b32, sizeof b32);
    OPENSSL_cleanse(key, sizeof key);
    pnk_codec_hex(sealed, n, hex);

    const char *params[] = {user_id, hex, req->principal.account_id};
    pn_rows_t *rows = NULL;
    /* A new setup replaces a pending secret, never an enabled one. */
    if ((rc = pnk_req_db_query(req,
                               "UPDATE users SET totp_secret_enc = decode($2, 'hex'),"
                               "       totp_last_step = NULL, updated_at = now()"
                               " WHERE id = $1 AND account_id = $3 AND NOT totp_enabled"
                               " RETURNING email",
                               3, params, &rows)) != PN_OK)
        return rc;
    if (pnk_rows_count(rows) != 1)
        return pnk_fail(req, PN_E_CONFLICT, "two-factor is already on; disable it first");
    char *email = urlencode(req->arena, pnk_rows_value(rows, 0, 0));
    char *uri = pnk_arena_printf(req->arena,
                                 "otpauth://totp/" APP_ISSUER ":%s?secret=%s&issuer=" APP_ISSUER
                                 "&algorithm=SHA1&digits=%d&period=%d",
                                 email ? email : "", b32, PNK_TOTP_DIGITS, PNK_TOTP_PERIOD);
    pnk_signin_audit(req, "auth.totp.setup", "success", NULL, user_id, NULL);
    (void)pnk_reply_header(req, "Cache-Control", "no-store");
    return pnk_reply_json(req, 200, json_pack("{s:s, s:s?}", "secret", b32, "otpauth_uri", uri),
                          NULL);
}

/* Replace the user's recovery codes with new ones, appended to out in plaintext. */
static int
new_recovery_codes(pn_req_t *req, const char *user_id, const char *account_id, json_t *out)
{
    int rc = pnk_req_db_query(req, "DELETE FROM user_recovery_codes WHERE user_id = $1", 1,
                              &user_id, NULL);
    for (int i = 0; rc == PN_OK && i < RECOVERY_CODES; i++) {
        unsigned char raw[RECOVERY_BYTES];
        char b32[PNK_BASE32_LEN(RECOVERY_BYTES)], code[24], hash[65], id[37];
        if (!pnk_codec_random(raw, sizeof raw))
            return pnk_fail(req, PN_E_INTERNAL, "no randomness for recovery codes");
        pnk_codec_base32(raw, sizeof raw, b32, sizeof b32);
        (void)snprintf(code, sizeof code, "%.4s-%.4s-%.4s-%.4s", b32, b32 + 4, b32 + 8, b32 + 12);
        recovery_hash(code, hash);
        pnk_uuid_v7(id);
        const char *params[] = {id, account_id, user_id, hash};
        rc = pnk_req_db_query(req,
                              "INSERT INTO user_recovery_codes (id, account_id, user_id, code_hash)"
                              " VALUES ($1, $2, $3, decode($4, 'hex'))",
                              4, params, NULL);
        json_array_append_new(out, json_string(code));
    }
    return rc;
}

int
pnk_auth_route_totp_enable(pn_req_t *req)
{
    int rc = pnk_signin_need_user(req);
    if (rc != PN_OK)
        return rc;
    if (!pnk_auth_policy()->two_factor)
        return pnk_signin_no_two_factor(req);
    const char *user_id = req->principal.user_id, *account_id = req->principal.account_id;
    totp_user_t u;
    if ((rc = load_user(req, user_id, account_id, &u)) == PN_E_NOTFOUND)
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    if (rc != PN_OK)
        return rc;
    if (u.enabled)
        return pnk_fail(req, PN_E_CONFLICT, "two-factor is already on");
    if (!u.sealed_hex)
        return pnk_fail(req, PN_E_CONFLICT, "start with POST /api/v1/auth/totp/setup");
    bool ok = false;
    const char *code = json_string_value(json_object_get(pnk_req_json(req), "code"));
    if ((rc = use_code(req, user_id, &u, code, &ok)) != PN_OK)
        return rc;
    if (!ok) {
        pnk_signin_audit(req, "auth.totp.enable", "failure", NULL, user_id,
                         json_pack("{s:s}", "reason", "wrong code"));
        pnk_fail_field(req, "code", "does not match the authenticator");
        return pnk_fail(req, PN_E_INVALID, "invalid code");
    }
    json_t *codes = json_array();
    if (!codes)
        return pnk_fail(req, PN_E_INTERNAL, "out of memory");
    if ((rc = pnk_req_db_begin(req)) == PN_OK)
        rc = pnk_req_db_query(req,
                              "UPDATE users SET totp_enabled = true, updated_at = now()"
                              " WHERE id = $1",
                              1, &user_id, NULL);
    if (rc == PN_OK)
        rc = new_recovery_codes(req, user_id, account_id, codes);
    if (rc == PN_OK) {
        pnk_signin_audit(req, "auth.totp.enable", "success", NULL, user_id,
                         json_pack("{s:i}", "recovery_codes", RECOVERY_CODES));
        rc = pnk_req_db_commit(req);
    }
    if (rc != PN_OK) {
        json_decref(codes);
        return rc;
    }
    (void)pnk_reply_header(req, "Cache-Control", "no-store");
    return pnk_reply_json(req, 200, json_pack("{s:b, s:o}", "enabled", 1, "recovery_codes", codes),
                          NULL);
}

int
pnk_auth_route_totp_disable(pn_req_t *req)
{
    int rc = pnk_signin_need_user(req);
    if (rc != PN_OK)
        return rc;
    if (!pnk_auth_policy()->two_factor)
        return pnk_signin_no_two_factor(req);
    const char *user_id = req->principal.user_id, *account_id = req->principal.account_id;
    totp_user_t u;
    if ((rc = load_user(req, user_id, account_id, &u)) == PN_E_NOTFOUND)
        return pnk_fail(req, PN_E_NOTFOUND, "user not found");
    if (rc != PN_OK)
        return rc;
    if (!u.enabled)
        return pnk_fail(req, PN_E_CONFLICT, "two-factor is not on");
    if (u.locked)
        return pnk_signin_locked(req, u.lock_seconds);
    json_t *jp = json_object_get(pnk_req_json(req), "password");
    bool pwd_ok =
        pnk_password_verify(u.password_hash, json_string_value(jp), json_string_length(jp));
    bool code_ok = false;
    const char *method = NULL;
    if (pwd_ok && (rc = second_factor(req, user_id, &u, &code_ok, &method)) != PN_OK)
        return rc;
    if (!pwd_ok || !code_ok) {
        bool locked = false;
        if ((rc = pnk_signin_failed(req, user_id, account_id, &locked)) != PN_OK)
            return rc;
        pnk_signin_audit(req, "auth.totp.disable", "failure", NULL, user_id,
                         json_pack("{s:s}", "reason", pwd_ok ? "wrong code" : "wrong password"));
        pnk_fail_field(req, pwd_ok ? "code" : "password", "is not correct");
        return pnk_fail(req, PN_E_INVALID, pwd_ok ? "invalid code" : "password is incorrect");
    }
    if ((rc = pnk_req_db_begin(req)) == PN_OK)
        rc = pnk_req_db_query(req,
                              "UPDATE users SET totp_enabled = false, totp_secret_enc = NULL,"
                              "       totp_last_step = NULL, updated_at = now() WHERE id = $1",
                              1, &user_id, NULL);
    if (rc == PN_OK)
        rc = pnk_req_db_query(req, "DELETE FROM user_recovery_codes WHERE user_id = $1", 1,
                              &user_id, NULL);
    if (rc == PN_OK) {
        pnk_signin_audit(req, "auth.totp.disable", "success", NULL, user_id,
                         json_pack("{s:s}", "second_factor", method));
        rc = pnk_req_db_commit(req);
    }
    if (rc != PN_OK)
        return rc;
    return pnk_reply_json(req, 200, json_pack("{s:b}", "enabled", 0), NULL);
}
