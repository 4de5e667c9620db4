/*
 * Small helpers the providers share: a growable string, hex and base64, RFC 3986 encoding,
 * SHA-256 and HMAC-SHA256 (OpenSSL), and the two request signers built on them: SigV4 (AWS4
 * and GOOG4 flavours, header and query forms) and Azure Shared Key.
 */
#ifndef ST_UTIL_H
#define ST_UTIL_H

#include <powernode/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A growable NUL-terminated string; `oom` sticks once an allocation failed. */
typedef struct st_buf {
    char *s;
    size_t len, cap;
    bool oom;
} st_buf_t;

void st_buf_add(st_buf_t *b, const char *s, size_t n);
void st_buf_puts(st_buf_t *b, const char *s);
void st_buf_printf(st_buf_t *b, const char *fmt, ...) PN_PRINTF(2, 3);
/* The string (malloc'd, caller frees), or NULL after an allocation failure. Resets b. */
char *st_buf_take(st_buf_t *b);
void st_buf_free(st_buf_t *b);

void st_hex(const unsigned char *in, size_t n, char *out); /* out: 2n + 1 */
/* Base64 (standard alphabet, padded). Encode: out needs 4*((n+2)/3)+1. Decode returns the
 * length or -1 on bad input; out needs 3*(strlen/4). */
void st_b64_encode(const unsigned char *in, size_t n, char *out);
int st_b64_decode(const char *in, unsigned char *out, size_t cap);

/* RFC 3986 percent-encoding of every byte but A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash),
 * appended to b. */
void st_uri_encode(st_buf_t *b, const char *s, bool keep_slash);

void st_sha256(const void *data, size_t n, unsigned char out[32]);
void st_sha256_hex(const void *data, size_t n, char out[65]);
void st_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
                    unsigned char out[32]);

/* One query parameter or header, raw (not encoded). */
typedef struct st_kv {
    const char *k;
    const char *v;
} st_kv_t;

/* Canonical query string: names and values RFC 3986-encoded, sorted by name then value, a
 * parameter without value written "name=". malloc'd. */
char *st_canonical_query(const st_kv_t *params, size_t n);

typedef struct st_sigv4 {
    bool goog; /* GOOG4-HMAC-SHA256 with x-goog-* names; otherwise AWS4-HMAC-SHA256 */
    const char *region;
    const char *service;
    const char *access_key;
    const char *secret;
} st_sigv4_t;

/* "20130524T000000Z" for t (out: 17 bytes). */
void st_sigv4_date(time_t t, char out[17]);

/*
 * The Authorization header value for a request. `uri` is the path exactly as sent (already
 * encoded), `params` the raw query parameters, `hdrs` the headers to sign besides host (names
 * in lower case; must include <prefix>date and, for AWS, x-amz-content-sha256), and
 * `payload_hash` the hex SHA-256 of the body or "UNSIGNED-PAYLOAD". `date` is the value of
 * the date header. malloc'd, NULL on allocation failure.
 */
char *st_sigv4_authorization(const st_sigv4_t *s, const char *method, const char *host,
                             const char *uri, const st_kv_t *params, size_t nparams,
                             const st_kv_t *hdrs, size_t nhdrs, const char *payload_hash,
                             const char *date);

/* The query string of a presigned URL (canonical, ending in &X-...-Signature=...), signing
 * only host with an unsigned payload. malloc'd. */
char *st_sigv4_presign(const st_sigv4_t *s, const char *method, const char *host, const char *uri,
                       int expires, const char *date);

/* base64(HMAC-SHA256(key, string_to_sign)) for Azure Shared Key and SAS (out: 45 bytes). */
void st_azure_sign(const unsigned char *key, size_t keylen, const char *sts, char out[45]);

/* Constant-time comparison. */
bool st_ct_equal(const void *a, const void *b, size_t n);

#endif /* ST_UTIL_H */
