/* Encodings and digests for tokens, keys and TOTP secrets; see codec.h. */
#include "codec.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static const char b64url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char base32_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Both encodings read the input as a bit stream, `bits` at a time. */
static bool
encode_bits(const unsigned char *in, size_t n, const char *alpha, int bits, char *out,
            size_t outlen)
{
    size_t need = (n * 8 + (size_t)bits - 1) / (size_t)bits + 1, o = 0;
    unsigned acc = 0;
    int have = 0;

    if (outlen < need)
        return false;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        have += 8;
        while (have >= bits) {
            have -= bits;
            out[o++] = alpha[(acc >> have) & ((1u << bits) - 1)];
        }
        acc &= (1u << have) - 1;
    }
    if (have > 0)
        out[o++] = alpha[(acc << (bits - have)) & ((1u << bits) - 1)];
    out[o] = '\0';
    return true;
}

bool
pnk_codec_b64url(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    return encode_bits(in, n, b64url_alpha, 6, out, outlen);
}

bool
pnk_codec_base32(const unsigned char *in, size_t n, char *out, size_t outlen)
{
    return encode_bits(in, n, base32_alpha, 5, out, outlen);
}

void
pnk_codec_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

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

bool
pnk_codec_unhex(const char *hex, unsigned char *out, size_t n)
{
    if (!hex)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!hex[2 * i] || !hex[2 * i + 1])
            return false;
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return hex[2 * n] == '\0';
}

void
pnk_codec_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, n, md);
    pnk_codec_hex(md, sizeof md, out);
}

void
pnk_codec_hmac256(const unsigned char *key, size_t klen, const void *data, size_t n,
                  unsigned char mac[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, data, n, mac, &len);
}

bool
pnk_codec_random(unsigned char *out, size_t n)
{
    return n <= 1024 && RAND_bytes(out, (int)n) == 1;
}
