/*
 * New API keys: the key a client is shown once, the prefix that finds its row and the SHA-256
 * that is all the database keeps. A high-entropy random secret needs no slow hash.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "identity_util.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char hex[] = "0123456789abcdef";

/* 32 bytes -> 43 characters of unpadded base64url. */
static void
encode32(const unsigned char in[32], char out[44])
{
    size_t o = 0;
    for (size_t i = 0; i < 30; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    unsigned v = (unsigned)in[30] << 8 | in[31];
    out[o++] = b64url[v >> 10 & 63];
    out[o++] = b64url[v >> 4 & 63];
    out[o++] = b64url[(v << 2) & 63];
    out[o] = '\0';
}

int
pnk_identity_apikey_generate(char key[PNK_IDENTITY_KEY_LEN + 1],
                             char prefix[PNK_IDENTITY_KEY_PREFIX_LEN + 1], char hash_hex[65])
{
    unsigned char secret[32], pre[PNK_IDENTITY_KEY_PREFIX_LEN / 2], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char enc[44];

    if (RAND_bytes(secret, sizeof secret) != 1 || RAND_bytes(pre, sizeof pre) != 1)
        return PN_E_INTERNAL;
    /* Lower-case hex, the shape auth/apikey.c parses. The prefix is an index, not a secret. */
    for (size_t i = 0; i < sizeof pre; i++) {
        prefix[2 * i] = hex[pre[i] >> 4];
        prefix[2 * i + 1] = hex[pre[i] & 15];
    }
    prefix[PNK_IDENTITY_KEY_PREFIX_LEN] = '\0';
    encode32(secret, enc);
    memcpy(key, "pnk_", 4);
    memcpy(key + 4, prefix, PNK_IDENTITY_KEY_PREFIX_LEN);
    key[4 + PNK_IDENTITY_KEY_PREFIX_LEN] = '_';
    memcpy(key + 5 + PNK_IDENTITY_KEY_PREFIX_LEN, enc, 44); /* with the NUL */
    OPENSSL_cleanse(secret, sizeof secret);

    if (EVP_Digest(key, PNK_IDENTITY_KEY_LEN, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return PN_E_INTERNAL;
    for (unsigned i = 0; i < 32; i++) {
        hash_hex[2 * i] = hex[md[i] >> 4];
        hash_hex[2 * i + 1] = hex[md[i] & 15];
    }
    hash_hex[64] = '\0';
    return PN_OK;
}

bool
pnk_identity_apikey_shape_ok(const char *s)
{
    if (!s || strlen(s) != PNK_IDENTITY_KEY_LEN || strncmp(s, "pnk_", 4) != 0 ||
        s[4 + PNK_IDENTITY_KEY_PREFIX_LEN] != '_')
        return false;
    for (int i = 4; i < 4 + PNK_IDENTITY_KEY_PREFIX_LEN; i++)
        if (!strchr(hex, s[i]) || s[i] == '\0')
            return false;
    for (int i = 5 + PNK_IDENTITY_KEY_PREFIX_LEN; i < PNK_IDENTITY_KEY_LEN; i++)
        if (!strchr(b64url, s[i]) || s[i] == '\0')
            return false;
    /* The last character carries 4 bits: only every fourth symbol can occur there. */
    return (strchr(b64url, s[PNK_IDENTITY_KEY_LEN - 1]) - b64url) % 4 == 0;
}
