/*
 * Passwords: argon2id through libargon2, salts and generated passwords from OpenSSL's CSPRNG.
 * Nothing here touches the database or a request.
 */
#include "password.h"

#include <argon2.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <powernode/types.h>

#include "../core/log.h"

/* OWASP Password Storage Cheat Sheet, first argon2id option. */
#define T_COST 2u
#define M_COST 19456u /* KiB */
#define PARALLEL 1u
#define SALT_LEN 16u
#define HASH_LEN 32u

static const char current_prefix[] = "$argon2id$v=19$m=19456,t=2,p=1$";

/* No 0/O/o, 1/l/I, 5/S or 2/Z pairs, so a password read aloud or from paper survives. */
static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRTUVWXY346789";

int
pnk_password_hash(const char *pwd, size_t len, char *out, size_t outlen, char *err, size_t errlen)
{
    unsigned char salt[SALT_LEN];

    if (len > UINT32_MAX) {
        (void)snprintf(err, errlen, "password too long to hash");
        return PN_E_INTERNAL;
    }
    if (outlen < argon2_encodedlen(T_COST, M_COST, PARALLEL, SALT_LEN, HASH_LEN, Argon2_id)) {
        (void)snprintf(err, errlen, "password hash buffer too small");
        return PN_E_INTERNAL;
    }
    if (RAND_bytes(salt, sizeof salt) != 1) {
        (void)snprintf(err, errlen, "no randomness for a password salt");
        return PN_E_INTERNAL;
    }
    int rc = argon2id_hash_encoded(T_COST, M_COST, PARALLEL, pwd, len, salt, sizeof salt, HASH_LEN,
                                   out, outlen);
    if (rc != ARGON2_OK) {
        (void)snprintf(err, errlen, "argon2id: %s", argon2_error_message(rc));
        return PN_E_INTERNAL;
    }
    return PN_OK;
}

bool
pnk_password_verify(const char *hash, const char *pwd, size_t len)
{
    if (!hash || !pwd || len > UINT32_MAX || strncmp(hash, "$argon2id$", 10) != 0)
        return false;
    int rc = argon2id_verify(hash, pwd, len);
    if (rc != ARGON2_OK && rc != ARGON2_VERIFY_MISMATCH)
        PNK_WARN("auth", "stored password hash unusable reason=\"%s\"", argon2_error_message(rc));
    return rc == ARGON2_OK;
}

static char dummy_hash[PNK_PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy(void)
{
    char err[128];
    /* A random password nobody knows, hashed at the current cost. */
    char pwd[PNK_PASSWORD_GEN_LEN + 1];
    if (pnk_password_generate(pwd, sizeof pwd) != PN_OK ||
        pnk_password_hash(pwd, strlen(pwd), dummy_hash, sizeof dummy_hash, err, sizeof err) !=
            PN_OK)
        dummy_hash[0] = '\0';
}

bool
pnk_password_verify_dummy(const char *pwd, size_t len)
{
    pthread_once(&dummy_once, make_dummy);
    if (dummy_hash[0])
        (void)pnk_password_verify(dummy_hash, pwd, len);
    return false;
}

bool
pnk_password_needs_rehash(const char *hash)
{
    return !hash || strncmp(hash, current_prefix, sizeof current_prefix - 1) != 0;
}

int
pnk_password_check_policy(const char *pwd, size_t len, char *err, size_t errlen)
{
    if (!pwd || len < PNK_PASSWORD_MIN) {
        (void)snprintf(err, errlen, "password must be at least %d bytes long", PNK_PASSWORD_MIN);
        return PN_E_INVALID;
    }
    if (len > PNK_PASSWORD_MAX) {
        (void)snprintf(err, errlen, "password must be at most %d bytes long", PNK_PASSWORD_MAX);
        return PN_E_INVALID;
    }
    if (memchr(pwd, '\0', len)) {
        (void)snprintf(err, errlen, "password must not contain a NUL character");
        return PN_E_INVALID;
    }
    size_t same = 1;
    while (same < len && pwd[same] == pwd[0])
        same++;
    if (same == len) {
        (void)snprintf(err, errlen, "password must not be one character repeated");
        return PN_E_INVALID;
    }
    return PN_OK;
}

int
pnk_password_generate(char out[], size_t n)
{
    enum { NALPHA = sizeof alphabet - 1 };
    /* Bytes >= LIMIT are dropped so every character is equally likely. */
    const unsigned limit = 256u - 256u % NALPHA;
    unsigned char buf[64];
    size_t got = 0;

    if (!out || n < PNK_PASSWORD_GEN_LEN + 1)
        return PN_E_INVALID;
    /* A batch of 64 bytes yields 20 accepted bytes with overwhelming probability; the bound
     * only guards against a broken generator. */
    for (int round = 0; round < 16 && got < PNK_PASSWORD_GEN_LEN; round++) {
        if (RAND_bytes(buf, sizeof buf) != 1)
            return PN_E_INTERNAL;
        for (size_t i = 0; i < sizeof buf && got < PNK_PASSWORD_GEN_LEN; i++)
            if (buf[i] < limit)
                out[got++] = alphabet[buf[i] % NALPHA];
    }
    out[got] = '\0';
    char err[8];
    if (got < PNK_PASSWORD_GEN_LEN || pnk_password_check_policy(out, got, err, sizeof err) != PN_OK)
        return PN_E_INTERNAL;
    return PN_OK;
}
