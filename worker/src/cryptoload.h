/*
 * libcrypto (OpenSSL 3), opened with dlopen on the first hash or signature rather than linked:
 * relocating its 21,000 symbols costs every process about 3 ms of start-up and 1.4 MiB of RSS,
 * which a local run (--run) that signs no token and hashes nothing does not need. The daemon
 * opens it at start-up, so a worker without it fails there, not at its first job. (libcurl
 * links libcrypto too: a process that calls the server has it mapped either way.)
 */
#ifndef PNW_CRYPTOLOAD_H
#define PNW_CRYPTOLOAD_H

#include <openssl/evp.h>
#include <stddef.h>

/* The libcrypto functions the worker uses, with OpenSSL's own signatures. */
typedef struct pnw_crypto {
    EVP_MD_CTX *(*md_ctx_new)(void);
    void (*md_ctx_free)(EVP_MD_CTX *ctx);
    const EVP_MD *(*sha1)(void);
    const EVP_MD *(*sha256)(void);
    int (*digest_init)(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl);
    int (*digest_update)(EVP_MD_CTX *ctx, const void *d, size_t n);
    int (*digest_final)(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *n);
    unsigned char *(*hmac)(const EVP_MD *md, const void *key, int keylen, const unsigned char *d,
                           size_t n, unsigned char *out, unsigned int *outlen);
} pnw_crypto_t;

/* The table, opening libcrypto.so.3 on the first call (once per process, safe from several
 * threads). NULL when it is missing or not OpenSSL 3; the same reason is then returned on every
 * call. */
const pnw_crypto_t *pnw_crypto(char *why, size_t whylen);

/* Digest of n bytes (SHA-1: 20 bytes out, SHA-256: 32). 0, or -1 when libcrypto is missing or
 * failed. */
int pnw_sha1(const void *d, size_t n, unsigned char out[20]);
/* SHA-256 of everything readable from fd, as 64 lowercase hex digits. 0, or -1. */
int pnw_sha256_fd(int fd, char hex[65]);
/* HMAC-SHA256 of d with key. 0, or -1. */
int pnw_hmac_sha256(const char *key, const void *d, size_t n, unsigned char out[32]);

#endif
