/* AES-256-GCM sealing of small secrets through OpenSSL's EVP interface; see seal.h. */
#include "seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <string.h>

#include <powernode/types.h>

#define VERSION 1
#define NONCE 12
#define TAG 16

static int
run(bool seal, const unsigned char *key, const unsigned char *nonce, const char *aad,
    const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok = c != NULL;
    size_t alen = aad ? strlen(aad) : 0;

    if (ok)
        ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, seal ? 1 : 0) == 1;
    if (ok && alen)
        ok = EVP_CipherUpdate(c, NULL, &len, (const unsigned char *)aad, (int)alen) == 1;
    if (ok && n)
        ok = EVP_CipherUpdate(c, out, &len, in, (int)n) == 1;
    if (ok && !seal)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, tag) == 1;
    /* For opening, this is where a wrong tag (tampering, wrong key or context) shows. */
    int fin = ok ? EVP_CipherFinal_ex(c, out + (n ? len : 0), &len) == 1 : 0;
    if (ok && fin && seal)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        return PN_E_INTERNAL;
    return fin ? PN_OK : PN_E_INVALID;
}

int
pnk_seal(const unsigned char key[PNK_SEAL_KEY_LEN], const unsigned char *pt, size_t n,
         const char *aad, unsigned char *out, size_t outsize, size_t *outlen)
{
    if (n > 4096 || outsize < n + PNK_SEAL_OVERHEAD)
        return PN_E_INTERNAL;
    out[0] = VERSION;
    if (RAND_bytes(out + 1, NONCE) != 1)
        return PN_E_INTERNAL;
    int rc = run(true, key, out + 1, aad, pt, n, out + 1 + NONCE, out + 1 + NONCE + n);
    if (rc != PN_OK)
        return PN_E_INTERNAL;
    *outlen = n + PNK_SEAL_OVERHEAD;
    return PN_OK;
}

int
pnk_seal_open(const unsigned char key[PNK_SEAL_KEY_LEN], const unsigned char *sealed, size_t n,
              const char *aad, unsigned char *out, size_t outsize, size_t *outlen)
{
    if (n < PNK_SEAL_OVERHEAD || n > 4096 + PNK_SEAL_OVERHEAD || sealed[0] != VERSION)
        return PN_E_INVALID;
    size_t ctlen = n - PNK_SEAL_OVERHEAD;
    if (outsize < ctlen)
        return PN_E_INTERNAL;
    unsigned char tag[TAG];
    memcpy(tag, sealed + n - TAG, TAG);
    int rc = run(false, key, sealed + 1, aad, sealed + 1 + NONCE, ctlen, out, tag);
    if (rc != PN_OK) {
        memset(out, 0, ctlen); /* never hand out unauthenticated plaintext */
        return rc;
    }
    *outlen = ctlen;
    return PN_OK;
}
