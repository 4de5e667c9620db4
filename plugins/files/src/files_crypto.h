/*
 * Hashes, tokens and signatures over OpenSSL's libcrypto: SHA-256 of uploads (streamed),
 * share tokens and their stored hash, and the HMAC of signed download URLs. No host calls.
 */
#ifndef FILES_CRYPTO_H
#define FILES_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct files_sha256 files_sha256_t;

files_sha256_t *files_sha256_new(void);
void files_sha256_update(files_sha256_t *h, const void *data, size_t len);
/* Write 64 lower-case hex digits + NUL and free h. */
void files_sha256_final(files_sha256_t *h, char hex[65]);
void files_sha256_free(files_sha256_t *h);
/* One-shot hex digest. */
void files_sha256_hex(const void *data, size_t len, char hex[65]);

/* 32 random bytes as unpadded base64url (43 chars + NUL). 0, or -1 when the RNG fails. */
int files_random_token(char out[44]);

/* The signature of a download URL: HMAC-SHA256 over "<method>\n<file>\n<version>\n<expires>\n
 * <disposition>" as 64 hex chars. Binding the method and object means a URL for one GET of
 * one version is good for nothing else. */
void files_url_sign(const unsigned char *key, size_t keylen, const char *method,
                    const char *file_id, const char *version_id, int64_t expires,
                    const char *disposition, char out[65]);
/* Constant-time comparison of two NUL-terminated strings of equal expected length. */
bool files_ct_equal(const char *a, const char *b);

#endif
