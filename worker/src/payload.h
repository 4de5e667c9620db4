/*
 * Sidekiq job payloads: decoding with limits (size, nesting, UTF-8, field types), argument
 * checks against a class's signature, and the payloads written to the retry and dead sets.
 * Anything wrong with a payload is a one-line reason, never a crash.
 */
#ifndef PNW_PAYLOAD_H
#define PNW_PAYLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* "retry" resolved: PNW_RETRY_CLASS = true or absent (use the class's count),
 * PNW_RETRY_DISCARD = false (dropped on failure, as in Sidekiq), n >= 0 = that many. */
#define PNW_RETRY_CLASS (-2)
#define PNW_RETRY_DISCARD (-1)

typedef struct pnw_payload {
    json_t *root; /* owned */
    const char *job_class;
    const char *jid;
    const char *queue; /* NULL when the payload names none */
    json_t *args;      /* borrowed from root */
    int retry;
    int retry_count; /* -1 before the first failure */
    int orphaned;    /* times its process died under it (pn_orphaned) */
} pnw_payload_t;

/* 0, or -1 with the reason in why. On success free with pnw_payload_clear. */
int pnw_payload_decode(const char *buf, size_t len, size_t max_bytes, int max_depth,
                       pnw_payload_t *out, char *why, size_t whylen);
void pnw_payload_clear(pnw_payload_t *p);

/* Check args against a signature (see pn_job_class_t.args); 0 or -1 + reason. */
int pnw_args_check(const char *spec, const json_t *args, char *why, size_t whylen);

/* The payload after a failed attempt: Sidekiq's error_message, error_class, failed_at (first
 * failure) or retried_at, retry_count. malloc'd JSON or NULL. */
char *pnw_payload_failed(pnw_payload_t *p, const char *error_class, const char *message, double now,
                         int retry_count);
/* The payload with pn_orphaned set (for a job returned after its process died). */
char *pnw_payload_orphaned(pnw_payload_t *p, int orphaned);
/* A dead-set entry for bytes that could not be decoded: a valid Sidekiq-shaped job naming
 * the reason, with the first 8 KiB of the original in base64 (pn_raw_b64). */
char *pnw_payload_wrap_bad(const char *buf, size_t len, const char *queue, const char *why,
                           double now);

#endif
