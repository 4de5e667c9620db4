/*
 * Small encodings and digests the auth area shares: unpadded base64url and base32, hex,
 * SHA-256 and HMAC-SHA256, random bytes. Pure and thread-safe.
 */
#ifndef PNK_CODEC_H
#define PNK_CODEC_H

#include <stdbool.h>
#include <stddef.h>

/* Output sizes (with the NUL) for n input bytes. */
#define PNK_B64URL_LEN(n) (((n)*4 + 2) / 3 + 1)
#define PNK_BASE32_LEN(n) (((n)*8 + 4) / 5 + 1)

/* Unpadded base64url (RFC 4648 §5) of n bytes into out; false when out is too small. */
bool pnk_codec_b64url(const unsigned char *in, size_t n, char *out, size_t outlen);
/* Unpadded upper-case base32 (RFC 4648 §6), what authenticator apps read; false when out is
 * too small. */
bool pnk_codec_base32(const unsigned char *in, size_t n, char *out, size_t outlen);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void pnk_codec_hex(const unsigned char *in, size_t n, char *out);
/* Exactly 2n hex digits (either case) into n bytes; false on any other input. */
bool pnk_codec_unhex(const char *hex, unsigned char *out, size_t n);
/* SHA-256 of n bytes as 64 hex digits. */
void pnk_codec_sha256_hex(const void *data, size_t n, char out[65]);
/* HMAC-SHA256 of n bytes under key (klen bytes) into mac. */
void pnk_codec_hmac256(const unsigned char *key, size_t klen, const void *data, size_t n,
                       unsigned char mac[32]);
/* n bytes from OpenSSL's CSPRNG; false when it fails. */
bool pnk_codec_random(unsigned char *out, size_t n);

#endif
