/*
 * Secrets at rest (TOTP seeds): AES-256-GCM under the master key, with a context string as
 * additional authenticated data so a sealed value copied to another row does not open.
 * Layout: version byte 1 | 12-byte random nonce | ciphertext | 16-byte tag. Thread-safe.
 */
#ifndef PNK_SEAL_H
#define PNK_SEAL_H

#include <stddef.h>

#define PNK_SEAL_KEY_LEN 32
#define PNK_SEAL_OVERHEAD (1 + 12 + 16)

/* Seal n bytes of pt into out (n + PNK_SEAL_OVERHEAD bytes); *outlen gets the size.
 * PN_OK, or PN_E_INTERNAL (no randomness, buffer too small, OpenSSL failure). */
int pnk_seal(const unsigned char key[PNK_SEAL_KEY_LEN], const unsigned char *pt, size_t n,
             const char *aad, unsigned char *out, size_t outsize, size_t *outlen);

/* Open a sealed value into out (at least n - PNK_SEAL_OVERHEAD bytes). PN_OK, or
 * PN_E_INVALID when the value is malformed, was changed, belongs to another context or was
 * sealed under another key; PN_E_INTERNAL when OpenSSL fails. */
int pnk_seal_open(const unsigned char key[PNK_SEAL_KEY_LEN], const unsigned char *sealed, size_t n,
                  const char *aad, unsigned char *out, size_t outsize, size_t *outlen);

#endif
