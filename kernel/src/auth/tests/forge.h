/* Hand-made tokens for the forgery tests: any header and payload, any HMAC or none. */
#ifndef PN_AUTH_TEST_FORGE_H
#define PN_AUTH_TEST_FORGE_H

#include <stddef.h>

/* base64url without padding of n bytes; malloc'd. */
char *forge_b64url(const void *data, size_t n);
/* "<b64 header>.<b64 payload>.<sig>" where sig is HMAC-SHA256 (md_bits 256), HMAC-SHA512
 * (512) with key, or empty (0). malloc'd. */
char *forge_token(const char *header_json, const char *payload_json, const char *key, int md_bits);

#endif
