/*
 * HTTP details of downloads that need no host: the Range header, If-None-Match, the
 * Content-Disposition value (RFC 6266 with an RFC 8187 filename*), and the tus metadata
 * header. Pure, unit-tested.
 */
#ifndef FILES_HTTP_H
#define FILES_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    FILES_RANGE_NONE = 0, /* no usable Range: send the whole file (also for multiple ranges) */
    FILES_RANGE_OK = 1,   /* one satisfiable range in *off, *len */
    FILES_RANGE_UNSAT = 2 /* a valid header no byte of which exists: 416 */
} files_range_t;

/* Parse a Range header against a file of `size` bytes (RFC 9110 14.2). A syntax error or more
 * than one range gives FILES_RANGE_NONE, which RFC 9110 allows (the header may be ignored). */
files_range_t files_range_parse(const char *hdr, uint64_t size, uint64_t *off, uint64_t *len);

/* Whether an If-None-Match value matches the strong tag etag (quotes included); weak
 * comparison, as RFC 9110 requires for If-None-Match. */
bool files_etag_match(const char *inm, const char *etag);

/* `type` ("attachment" or "inline") with filename="<ASCII fallback>" and
 * filename*=UTF-8''<percent-encoded>; out needs at least 4 * len(name) + 64 bytes. */
void files_disposition(const char *type, const char *name, char *out, size_t cap);

/* Walk a tus Upload-Metadata header ("key b64,key b64,key"): calls fn for every pair with the
 * value decoded (NUL-terminated, vlen bytes; "" when no value). 0, or -1 when malformed
 * (bad key, bad base64, duplicate key, more than 32 pairs) or when fn returns non-zero. */
int files_tus_metadata(const char *hdr,
                       int (*fn)(void *ud, const char *key, const char *val, size_t vlen),
                       void *ud);

/* Strict base64 (RFC 4648 section 4, padding required). out needs 3 * (n / 4) + 1 bytes.
 * Returns the decoded length or -1. */
long files_b64_decode(const char *in, size_t n, unsigned char *out);

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for unix time t. */
void files_http_date(int64_t t, char out[32]);

#endif
