-- Sign-in security: single-use TOTP codes (the last step used) and hashed recovery codes.
-- Applied once, in one transaction, by the kernel's migration runner; never edit this file
-- after it is committed: add a later number instead.

-- The 30-second TOTP step of the last code accepted: a code works once, and no older code
-- works after a newer one.
ALTER TABLE users ADD COLUMN totp_last_step bigint;

-- One-time codes for when the authenticator is lost. Only an HMAC-SHA256 of each code is
-- stored, keyed with a key derived from the master key, so a database dump alone does not
-- allow guessing them offline.
CREATE TABLE user_recovery_codes (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL UNIQUE,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_recovery_codes_user_idx ON user_recovery_codes (user_id);

-- Revoking a user's sessions looks at the live ones only.
CREATE INDEX refresh_tokens_user_live_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
