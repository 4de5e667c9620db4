/*
 * SHA-256, random tokens and URL signatures (files_crypto.h).
 */
#include "files_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

struct files_sha256 {
    EVP_MD_CTX *ctx;
};

static void
to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

files_sha256_t *
files_sha256_new(void)
{
    files_sha256_t *h = OPENSSL_zalloc(sizeof *h);

    if (h == NULL)
        return NULL;
    if ((h->ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        OPENSSL_free(h);
        return NULL;
    }
    return h;
}

void
files_sha256_update(files_sha256_t *h, const void *data, size_t len)
{
    if (len)
        EVP_DigestUpdate(h->ctx, data, len);
}

void
files_sha256_final(files_sha256_t *h, char hex[65])
{
    unsigned char d[32];
    unsigned n = 0;

    EVP_DigestFinal_ex(h->ctx, d, &n);
    to_hex(d, 32, hex);
    files_sha256_free(h);
}

void
files_sha256_free(files_sha256_t *h)
{
    if (h) {
        EVP_MD_CTX_free(h->ctx);
        OPENSSL_free(h);
    }
}

void
files_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char d[32];
    unsigned n = 0;

    EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
    to_hex(d, 32, hex);
}

int
files_random_token(char out[44])
{
    static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char r[33];
    size_t o = 0;

    if (RAND_bytes(r, 32) != 1)
        return -1;
    r[32] = 0;
    for (size_t i = 0; i < 33; i += 3) {
        uint32_t w = ((uint32_t)r[i] << 16) | ((uint32_t)(i + 1 < 33 ? r[i + 1] : 0) << 8) |
                     (uint32_t)(i + 2 < 33 ? r[i + 2] : 0);
        for (int k = 3; k >= 0 && o < 43; k--)
            out[o++] = b64u[(w >> (6 * k)) & 63];
    }
    out[43] = '\0';
    OPENSSL_cleanse(r, sizeof r);
    return 0;
}

void
files_url_sign(const unsigned char *key, size_t keylen, const char *method, const char *file_id,
               const char *version_id, int64_t expires, const char *disposition, char out[65])
{
    char msg[256];
    unsigned char mac[32];
    unsigned n = 0;
    int len = snprintf(msg, sizeof msg, "%s\n%s\n%s\n%lld\n%s", method, file_id, version_id,
                       (long long)expires, disposition);

    if (len < 0 || (size_t)len >= sizeof msg)
        len = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, (size_t)len, mac, &n);
    to_hex(mac, 32, out);
}

bool
files_ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}
