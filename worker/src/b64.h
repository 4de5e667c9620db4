/* base64 encoding for the worker (no libcrypto needed for it). */
#ifndef PNW_B64_H
#define PNW_B64_H

#include <stddef.h>

/* base64url without padding; out needs 4 * ((n + 2) / 3) + 1 bytes. Returns the length. */
size_t pnw_b64url(const unsigned char *in, size_t n, char *out);
/* base64 with '=' padding (RFC 4648 section 4), the same size rule. */
size_t pnw_b64(const unsigned char *in, size_t n, char *out);

#endif
