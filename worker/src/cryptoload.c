/* Opening libcrypto on first use (cryptoload.h): one dlopen, the symbols checked, the major
 * version compared with the headers the worker was built against; and the three digests the
 * worker needs over that table. */
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cryptoload.h"
#include "dlload.h"

#if OPENSSL_VERSION_MAJOR != 3
#error "the worker opens libcrypto.so.3: build it against OpenSSL 3 headers"
#endif
#define CRYPTO_SONAME "libcrypto.so.3"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pnw_crypto_t table;
static const pnw_crypto_t *loaded;
static char failure[256];

static void
open_crypto(void)
{
    unsigned int (*major)(void) = NULL;
    const pnw_dlsym_t syms[] = {
        {"OPENSSL_version_major", (void **)&major},
        {"EVP_MD_CTX_new", (void **)&table.md_ctx_new},
        {"EVP_MD_CTX_free", (void **)&table.md_ctx_free},
        {"EVP_sha1", (void **)&table.sha1},
        {"EVP_sha256", (void **)&table.sha256},
        {"EVP_DigestInit_ex", (void **)&table.digest_init},
        {"EVP_DigestUpdate", (void **)&table.digest_update},
        {"EVP_DigestFinal_ex", (void **)&table.digest_final},
        {"HMAC", (void **)&table.hmac},
    };
    if (pnw_dlopen_syms(CRYPTO_SONAME, syms, sizeof syms / sizeof *syms, failure, sizeof failure))
        return;
    if (major() != OPENSSL_VERSION_MAJOR) {
        (void)snprintf(failure, sizeof failure, "%s is OpenSSL %u, the worker needs %d",
                       CRYPTO_SONAME, major(), OPENSSL_VERSION_MAJOR);
        return;
    }
    loaded = &table;
}

const pnw_crypto_t *
pnw_crypto(char *why, size_t whylen)
{
    pthread_once(&once, open_crypto);
    if (!loaded && why)
        (void)snprintf(why, whylen, "%s", failure);
    return loaded;
}

int
pnw_sha1(const void *d, size_t n, unsigned char out[20])
{
    const pnw_crypto_t *C = pnw_crypto(NULL, 0);
    EVP_MD_CTX *md = C ? C->md_ctx_new() : NULL;
    unsigned int len = 0;
    int ok = md && C->digest_init(md, C->sha1(), NULL) == 1 && C->digest_update(md, d, n) == 1 &&
             C->digest_final(md, out, &len) == 1 && len == 20;
    if (md)
        C->md_ctx_free(md);
    return ok ? 0 : -1;
}

int
pnw_sha256_fd(int fd, char hex[65])
{
    const pnw_crypto_t *C = pnw_crypto(NULL, 0);
    EVP_MD_CTX *md = C && fd >= 0 ? C->md_ctx_new() : NULL;
    ssize_t r = -1;
    if (md && C->digest_init(md, C->sha256(), NULL) == 1) {
        unsigned char buf[1 << 16];
        while ((r = read(fd, buf, sizeof buf)) > 0)
            if (C->digest_update(md, buf, (size_t)r) != 1) {
                r = -1;
                break;
            }
    }
    unsigned char d[32];
    unsigned int dn = 0;
    if (r == 0 && C->digest_final(md, d, &dn) == 1 && dn == 32)
        for (size_t i = 0; i < 32; i++)
            (void)snprintf(hex + 2 * i, 3, "%02x", d[i]);
    else
        r = -1;
    if (md)
        C->md_ctx_free(md);
    return r == 0 ? 0 : -1;
}

int
pnw_hmac_sha256(const char *key, const void *d, size_t n, unsigned char out[32])
{
    const pnw_crypto_t *C = pnw_crypto(NULL, 0);
    unsigned int len = 0;
    size_t kl = strlen(key);
    if (!C || kl > INT_MAX ||
        !C->hmac(C->sha256(), key, (int)kl, (const unsigned char *)d, n, out, &len) || len != 32)
        return -1;
    return 0;
}
