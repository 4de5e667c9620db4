/*
 * The audit trail: who did what to which thing, from where, and how it ended. Rows go to
 * audit_logs (sql/0001_core_identity.sql). Every mutating request is recorded by the
 * dispatcher after its handler; identity code records sign-ins and token events explicitly.
 * Recording never fails the request: a row that cannot be written is logged instead.
 */
#ifndef PNK_AUDIT_H
#define PNK_AUDIT_H

#include <jansson.h>

#include "../app/request.h"

typedef struct pnk_audit_event {
    const char *action;      /* "auth.login", "users.update", "hello.greetings.create" */
    const char *target_type; /* "user", "role", ... or NULL */
    const char *target_id;   /* the target's id, or NULL */
    const char *result;      /* "success", "failure" or "denied" */
    const char *account_id;  /* NULL: the principal's account */
    const char *user_id;     /* NULL: the principal's user */
    json_t *details;         /* stolen; facts only, never secrets or bodies; may be NULL */
} pnk_audit_event_t;

/*
 * Write one row. It goes through the request's own connection, so inside an open transaction
 * it commits or rolls back with the change it describes; a failure worth keeping after a
 * rollback is recorded after the rollback. Rows without any account (a sign-in attempt for an
 * unknown email in multi-account mode) are logged only. Returns PN_OK or the database code,
 * which callers normally ignore.
 */
int pnk_audit_record(pn_req_t *req, const pnk_audit_event_t *ev);

/* The dispatcher's hook: record a finished mutating request (POST, PUT, PATCH, DELETE) by an
 * authenticated principal, with the route's permission as the action and the :id parameter as
 * the target. Reads and anonymous requests are not recorded here. */
void pnk_audit_request(pn_req_t *req);

#endif
