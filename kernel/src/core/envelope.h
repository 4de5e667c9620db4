/*
 * The JSON envelope every reply uses, and the one table mapping pn_err_t codes to HTTP
 * statuses. Shared by the HTTP front (protocol errors) and the request layer (handler errors).
 */
#ifndef PNK_ENVELOPE_H
#define PNK_ENVELOPE_H

#include <jansson.h>

/* HTTP status for a pn_err_t code (500 for unknown codes). */
int pnk_err_status(int code);
/* pn_err_t code for an HTTP error status (PN_E_INTERNAL for unknown). */
int pnk_status_err(int status);
/* Reason phrase for a status ("Not Found"); "Unknown" when not in the table. */
const char *pnk_status_reason(int status);
/* Short default message for a code, used when a handler failed without writing one. */
const char *pnk_err_message(int code);

/* {"success":true,"data":data[,"meta":meta]}; steals data and meta. */
json_t *pnk_envelope_ok(json_t *data, json_t *meta);
/* {"success":false,"error":message,"details":details or []}; steals details. */
json_t *pnk_envelope_error(const char *message, json_t *details);
/* The serialized error envelope with at most one detail, as a malloc'd string the caller
 * frees; NULL only when memory is exhausted. */
char *pnk_envelope_error_text(const char *message, const char *field, const char *detail,
                              size_t *len_out);

#endif
