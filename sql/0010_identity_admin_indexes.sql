-- Indexes for the identity administration routes (kernel/src/identity): the audit log read
-- newest first by (created_at, id) so keyset paging (?before=) is one index range, a user's
-- own audit rows, a user's API keys newest first, and the users list. Never edit this file
-- after it is committed: add 0011_... instead.

-- Replaces audit_logs_account_created_idx, of which it is an extension.
CREATE INDEX audit_logs_account_keyset_idx ON audit_logs (account_id, created_at DESC, id DESC);
DROP INDEX audit_logs_account_created_idx;

CREATE INDEX audit_logs_account_user_keyset_idx
    ON audit_logs (account_id, user_id, created_at DESC, id DESC);

CREATE INDEX api_keys_user_created_idx ON api_keys (user_id, created_at DESC, id DESC);

CREATE INDEX users_account_created_idx ON users (account_id, created_at, id);
