-- Storage configurations of the storage plugin: where an account's files are kept. The
-- configuration holds the provider's public settings; its credentials are sealed by the
-- application (AES-256-GCM under plugins.storage.master_key) into configuration.credentials,
-- so the database never sees them in clear. Never edit this file once applied: add 0002_...
CREATE TABLE file_storages (
    id                   uuid PRIMARY KEY,
    account_id           uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    provider_type        text NOT NULL CHECK (provider_type IN ('local', 's3', 'azure', 'gcs')),
    configuration        jsonb NOT NULL DEFAULT '{}'::jsonb
                         CHECK (jsonb_typeof(configuration) = 'object'),
    is_default           boolean NOT NULL DEFAULT false,
    -- NULL means unlimited. used_bytes is reserved before a write and released on failure
    -- by the plugin that stores the bytes (files), with a conditional UPDATE.
    quota_bytes          bigint CHECK (quota_bytes IS NULL OR quota_bytes >= 0),
    used_bytes           bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    files_count          bigint NOT NULL DEFAULT 0 CHECK (files_count >= 0),
    status               text NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'inactive', 'maintenance', 'failed')),
    health_status        text CHECK (health_status IN ('healthy', 'degraded', 'failed')),
    health_details       jsonb,
    last_health_check_at timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT file_storages_account_name_key UNIQUE (account_id, name)
);
-- At most one default per account; the lazy creation of the default relies on it.
CREATE UNIQUE INDEX file_storages_one_default ON file_storages (account_id) WHERE is_default;
CREATE INDEX file_storages_account_idx ON file_storages (account_id, created_at DESC);
