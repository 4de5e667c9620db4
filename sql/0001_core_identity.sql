-- Core identity: accounts (tenants), users, roles and permissions, refresh tokens, API keys
-- and the audit log. Ids are UUIDv7 made by the application, so no column defaults to a
-- generated id. Applied once, in one transaction, by the kernel's migration runner; never
-- edit this file after it is committed: add 0002_... instead.

CREATE TABLE accounts (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    account_id          uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email               text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name                text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    -- PHC string (argon2id); NULL until an invited user sets a password.
    password_hash       text,
    status              text NOT NULL DEFAULT 'active'
                        CHECK (status IN ('active', 'disabled', 'invited')),
    failed_logins       integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until        timestamptz,
    -- Sealed by the application; the key never reaches the database.
    totp_secret_enc     bytea,
    totp_enabled        boolean NOT NULL DEFAULT false,
    last_login_at       timestamptz,
    password_changed_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT totp_enabled OR totp_secret_enc IS NOT NULL)
);
-- Emails compare case-insensitively: one address per account, and login looks it up by
-- lower(email) across accounts.
CREATE UNIQUE INDEX users_account_email_key ON users (account_id, lower(email));
CREATE INDEX users_email_idx ON users (lower(email));

-- account_id NULL marks a system role shared by every account.
CREATE TABLE roles (
    id              uuid PRIMARY KEY,
    account_id      uuid REFERENCES accounts (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description     text NOT NULL DEFAULT '',
    system          boolean NOT NULL DEFAULT false,
    all_permissions boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_account_name_key UNIQUE NULLS NOT DISTINCT (account_id, name),
    CHECK (NOT system OR account_id IS NULL)
);

-- The registry of permissions the kernel and the loaded plugins declare, upserted at
-- start-up. Rows of a plugin that is no longer loaded stay, so re-enabling it keeps grants.
CREATE TABLE permissions (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){2,}$'),
    description text NOT NULL DEFAULT '',
    category    text NOT NULL DEFAULT '',
    owner       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE role_permissions (
    role_id    uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE ON UPDATE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role_id, permission)
);
CREATE INDEX role_permissions_permission_idx ON role_permissions (permission);

-- A user may hold a system role or a role of its own account; the application checks the
-- account match (and the principal query ignores a role of another account).
CREATE TABLE user_roles (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role_idx ON user_roles (role_id);

-- Refresh tokens rotate on each use; all tokens descending from one login share family_id,
-- so presenting a used (replaced) token revokes the whole family. Only a hash is stored.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    replaced_by uuid REFERENCES refresh_tokens (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    user_agent  text,
    ip          inet
);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- API keys act for their owner with at most the listed permissions. The visible prefix finds
-- the row; only a hash of the whole key is stored.
CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix       text NOT NULL CHECK (length(prefix) BETWEEN 4 AND 32),
    key_hash     bytea NOT NULL UNIQUE,
    permissions  text[] NOT NULL DEFAULT '{}',
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_prefix_idx ON api_keys (prefix);
CREATE INDEX api_keys_account_idx ON api_keys (account_id);

-- Security-relevant events. A deleted user keeps their history (user_id becomes NULL);
-- deleting an account deletes its log with it.
CREATE TABLE audit_logs (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    action      text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    target_type text,
    target_id   text,
    ip          inet,
    user_agent  text,
    result      text NOT NULL CHECK (result IN ('success', 'failure', 'denied')),
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_account_created_idx ON audit_logs (account_id, created_at DESC);
CREATE INDEX audit_logs_user_idx ON audit_logs (user_id) WHERE user_id IS NOT NULL;

-- The system roles. Their ids are fixed (the kernel refers to them in auth.h) and shaped as
-- UUIDv7. Which permissions member and viewer hold is decided at start-up by the permission
-- sync (see kernel/src/auth/README.md); admin holds every permission through the flag.
INSERT INTO roles (id, account_id, name, description, system, all_permissions) VALUES
    ('01900000-0000-7000-8000-000000000001', NULL, 'admin',
     'Every permission, including administration', true, true),
    ('01900000-0000-7000-8000-000000000002', NULL, 'member',
     'Everything except administration', true, false),
    ('01900000-0000-7000-8000-000000000003', NULL, 'viewer',
     'Read-only access', true, false);
