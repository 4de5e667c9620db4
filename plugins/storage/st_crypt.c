/*
 * AES-256-GCM sealing of storage credentials under the plugin's master key (OpenSSL EVP).
 * A fresh random 96-bit nonce per seal; the row binding goes in as additional data.
 */
#include "st_util.h"
#include "storage_conf.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_LEN 12
#define TAG_LEN 16
#define MAX_PLAIN PN_KIB(16)

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
st_master_parse(const char *hex, st_master_t *m, st_err_t *err)
{
    memset(m, 0, sizeof *m);
    if (hex == NULL || hex[0] == '\0')
        return PN_OK;
    if (strlen(hex) != 64)
        return st_fail(err, PN_E_INVALID, "master_key must be 64 hexadecimal characters");
    for (size_t i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            memset(m, 0, sizeof *m);
            return st_fail(err, PN_E_INVALID, "master_key must be 64 hexadecimal characters");
        }
        m->k[i] = (unsigned char)(hi << 4 | lo);
    }
    unsigned char id[32];
    st_sha256(m->k, 32, id);
    st_hex(id, 8, m->kid);
    m->set = true;
    return PN_OK;
}

json_t *
st_seal(const st_master_t *m, const json_t *plain, const char *aad, st_err_t *err)
{
    unsigned char nonce[NONCE_LEN];
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *ct = NULL;
    char *b64 = NULL;
    json_t *out = NULL;
    int len, fin;

    if (!m->set) {
        st_fail(err, PN_E_UNAVAILABLE,
                "storage credentials cannot be stored: the storage "
                "plugin has no master_key");
        return NULL;
    }
    char *text = json_dumps(plain, JSON_COMPACT | JSON_SORT_KEYS);
    size_t n = text ? strlen(text) : 0;
    if (text == NULL || n > MAX_PLAIN || RAND_bytes(nonce, sizeof nonce) != 1 ||
        (ct = malloc(n + TAG_LEN)) == NULL ||
        (b64 = malloc(4 * ((n + TAG_LEN + 2) / 3) + 1)) == NULL ||
        (ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto fail;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, m->k, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_EncryptUpdate(ctx, ct, &len, (const unsigned char *)text, (int)n) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + n) != 1)
        goto fail;
    char nb[24];
    st_b64_encode(nonce, sizeof nonce, nb);
    st_b64_encode(ct, n + TAG_LEN, b64);
    out =
        json_pack("{s:s, s:s, s:s, s:s}", "alg", "A256GCM", "kid", m->kid, "nonce", nb, "ct", b64);
    if (out == NULL)
        goto fail;
    goto done;
fail:
    st_fail(err, PN_E_INTERNAL, "cannot seal the storage credentials");
done:
    if (text != NULL) {
        memset(text, 0, n);
        free(text);
    }
    EVP_CIPHER_CTX_free(ctx);
    free(ct);
    free(b64);
    return out;
}

json_t *
st_unseal(const st_master_t *m, const json_t *sealed, const char *aad, st_err_t *err)
{
    const char *alg = json_string_value(json_object_get(sealed, "alg"));
    const char *nb = json_string_value(json_object_get(sealed, "nonce"));
    const char *cb = json_string_value(json_object_get(sealed, "ct"));
    unsigned char nonce[NONCE_LEN + 3];
    unsigned char *ct = NULL, *pt = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    json_t *out = NULL;
    int len, fin, n = -1;

    if (!m->set) {
        st_fail(err, PN_E_UNAVAILABLE,
                "storage credentials cannot be read: the storage plugin "
                "has no master_key");
        return NULL;
    }
    if (alg == NULL || strcmp(alg, "A256GCM") != 0 || nb == NULL || cb == NULL ||
        strlen(cb) > 4 * (MAX_PLAIN + TAG_LEN) / 3 + 4 ||
        st_b64_decode(nb, nonce, sizeof nonce) != NONCE_LEN) {
        st_fail(err, PN_E_INTERNAL, "stored storage credentials are malformed");
        return NULL;
    }
    size_t cap = strlen(cb) / 4 * 3;
    if ((ct = malloc(cap + 1)) == NULL || (pt = malloc(cap + 1)) == NULL ||
        (n = st_b64_decode(cb, ct, cap)) < TAG_LEN || (ctx = EVP_CIPHER_CTX_new()) == NULL) {
        st_fail(err, PN_E_INTERNAL, "stored storage credentials are malformed");
        goto done;
    }
    size_t plen = (size_t)n - TAG_LEN;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, m->k, nonce) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) != 1 ||
        EVP_DecryptUpdate(ctx, pt, &len, ct, (int)plen) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, ct + plen) != 1 ||
        EVP_DecryptFinal_ex(ctx, pt + len, &fin) != 1) {
        st_fail(err, PN_E_INTERNAL,
                "stored storage credentials do not open (another master_key, or altered)");
        goto done;
    }
    out = json_loadb((const char *)pt, plen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(out)) {
        json_decref(out);
        out = NULL;
        st_fail(err, PN_E_INTERNAL, "stored storage credentials are malformed");
    }
    memset(pt, 0, plen);
done:
    EVP_CIPHER_CTX_free(ctx);
    free(ct);
    free(pt);
    return out;
}
