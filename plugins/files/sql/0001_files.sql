-- The files plugin's tables: file objects and their immutable versions, shares, tags, processing
-- jobs, upload reservations (simple uploads in flight and tus uploads) and per-account usage.
-- Ids are UUIDv7 made by the application. Every row carries account_id. Storage keys are made
-- by the server (acct/<account>/files/<file>/<version>); the user's filename lives only here,
-- cleaned. Never edit this file once applied: add 0002_... instead.

CREATE TABLE file_objects (
    id                 uuid PRIMARY KEY,
    account_id         uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The file_storages row of the storage plugin holding the blobs (no FK: that table belongs
    -- to another plugin; the storage plugin refuses to delete a storage that still has files).
    storage_id         uuid NOT NULL,
    current_version_id uuid,
    filename           text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    description        text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    content_type       text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 255),
    file_size          bigint NOT NULL CHECK (file_size >= 0),
    file_type          text NOT NULL CHECK (file_type IN
                       ('image', 'document', 'video', 'audio', 'archive', 'code', 'data', 'other')),
    category           text NOT NULL DEFAULT 'user_upload' CHECK (category IN
                       ('user_upload', 'workflow_output', 'ai_generated', 'temp', 'system',
                        'import', 'page_content', 'derivative')),
    visibility         text NOT NULL DEFAULT 'private' CHECK (visibility IN
                       ('private', 'public', 'shared', 'internal')),
    checksum_sha256    text NOT NULL CHECK (checksum_sha256 ~ '^[0-9a-f]{64}$'),
    version            integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- Derivatives (thumbnails, posters) are files of their own pointing at the original.
    parent_file_id     uuid REFERENCES file_objects (id) ON DELETE CASCADE,
    derivative_kind    text CHECK (derivative_kind IS NULL OR length(derivative_kind) <= 64),
    processing_status  text NOT NULL DEFAULT 'pending' CHECK (processing_status IN
                       ('pending', 'processing', 'completed', 'failed')),
    metadata           jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    exif_data          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(exif_data) = 'object'),
    dimensions         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(dimensions) = 'object'),
    download_count     bigint NOT NULL DEFAULT 0 CHECK (download_count >= 0),
    last_accessed_at   timestamptz,
    uploaded_by_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    deleted_at         timestamptz,
    deleted_by_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((parent_file_id IS NULL) = (derivative_kind IS NULL))
);
CREATE INDEX file_objects_account_created_idx ON file_objects (account_id, created_at DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX file_objects_account_deleted_idx ON file_objects (account_id, deleted_at)
    WHERE deleted_at IS NOT NULL;
CREATE INDEX file_objects_parent_idx ON file_objects (parent_file_id) WHERE parent_file_id IS NOT NULL;
CREATE INDEX file_objects_filename_idx ON file_objects (account_id, lower(filename));

-- One row per stored blob. A version is never rewritten; restoring an old one points the file
-- at it again.
CREATE TABLE file_versions (
    id                 uuid PRIMARY KEY,
    account_id         uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    file_object_id     uuid NOT NULL REFERENCES file_objects (id) ON DELETE CASCADE,
    version_number     integer NOT NULL CHECK (version_number >= 1),
    storage_id         uuid NOT NULL,
    storage_key        text NOT NULL CHECK (length(storage_key) BETWEEN 1 AND 512),
    file_size          bigint NOT NULL CHECK (file_size >= 0),
    content_type       text NOT NULL,
    checksum_sha256    text NOT NULL CHECK (checksum_sha256 ~ '^[0-9a-f]{64}$'),
    change_description text NOT NULL DEFAULT '' CHECK (length(change_description) <= 2000),
    created_by_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file_object_id, version_number),
    UNIQUE (storage_id, storage_key)
);
CREATE INDEX file_versions_account_idx ON file_versions (account_id);

ALTER TABLE file_objects ADD CONSTRAINT file_objects_current_version_fk
    FOREIGN KEY (current_version_id) REFERENCES file_versions (id) DEFERRABLE INITIALLY DEFERRED;

-- Only a SHA-256 of the share token is stored; the token is shown once, at creation.
CREATE TABLE file_shares (
    id               uuid PRIMARY KEY,
    account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    file_object_id   uuid NOT NULL REFERENCES file_objects (id) ON DELETE CASCADE,
    token_hash       text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    share_type       text NOT NULL DEFAULT 'public_link' CHECK (share_type IN ('public_link')),
    access_level     text NOT NULL DEFAULT 'download' CHECK (access_level IN ('download')),
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    expires_at       timestamptz,
    max_downloads    integer CHECK (max_downloads IS NULL OR max_downloads > 0),
    download_count   integer NOT NULL DEFAULT 0 CHECK (download_count >= 0),
    -- PHC string (argon2id), NULL when the share has no password.
    password_hash    text,
    last_accessed_at timestamptz,
    revoked_at       timestamptz,
    created_by_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (max_downloads IS NULL OR download_count <= max_downloads)
);
CREATE INDEX file_shares_file_idx ON file_shares (file_object_id);

CREATE TABLE file_tags (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND name = lower(name)),
    color       text NOT NULL DEFAULT '#9ca3af' CHECK (color ~ '^#[0-9a-f]{6}$'),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, name)
);

CREATE TABLE file_object_tags (
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    file_object_id uuid NOT NULL REFERENCES file_objects (id) ON DELETE CASCADE,
    file_tag_id    uuid NOT NULL REFERENCES file_tags (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (file_object_id, file_tag_id)
);
CREATE INDEX file_object_tags_tag_idx ON file_object_tags (file_tag_id);

CREATE TABLE file_processing_jobs (
    id                 uuid PRIMARY KEY,
    account_id         uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    file_object_id     uuid NOT NULL REFERENCES file_objects (id) ON DELETE CASCADE,
    job_type           text NOT NULL CHECK (job_type IN
                       ('thumbnail', 'metadata_extract', 'video_processing', 'audio_processing')),
    job_class          text NOT NULL,
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN
                       ('pending', 'processing', 'completed', 'failed')),
    priority           integer NOT NULL DEFAULT 50 CHECK (priority BETWEEN 0 AND 100),
    job_parameters     jsonb NOT NULL DEFAULT '{}'::jsonb,
    result_data        jsonb NOT NULL DEFAULT '{}'::jsonb,
    error_details      jsonb NOT NULL DEFAULT '{}'::jsonb,
    retry_count        integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    max_retries        integer NOT NULL DEFAULT 3 CHECK (max_retries >= 0),
    -- Set when the job was pushed to the queue; the reconciler re-pushes pending rows whose
    -- push never happened or is old.
    enqueued_at        timestamptz,
    started_at         timestamptz,
    completed_at       timestamptz,
    duration_ms        bigint,
    output_storage_key text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX file_processing_jobs_file_idx ON file_processing_jobs (file_object_id);
CREATE INDEX file_processing_jobs_pending_idx ON file_processing_jobs (enqueued_at)
    WHERE status = 'pending';

-- A reservation of quota for bytes being written, and the intent log of that write: the row
-- exists from before the first byte is stored until the file row is committed (same
-- transaction) or the write failed. Rows left behind by a crash expire; the sweeper then
-- removes their blobs and releases the bytes. kind 'tus' rows are resumable uploads.
CREATE TABLE file_uploads (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    storage_id     uuid NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('simple', 'tus')),
    upload_length  bigint NOT NULL CHECK (upload_length >= 0),
    upload_offset  bigint NOT NULL DEFAULT 0 CHECK (upload_offset BETWEEN 0 AND upload_length),
    chunk_count    integer NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
    -- The final blob's key, and the file (and version) it will become.
    storage_key    text NOT NULL,
    file_id        uuid NOT NULL,
    version_id     uuid NOT NULL,
    -- Set when the upload is a new version of an existing file.
    target_file_id uuid,
    options        jsonb NOT NULL DEFAULT '{}'::jsonb,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX file_uploads_expires_idx ON file_uploads (expires_at);

-- Bytes stored (and reserved) per account, for the account quota. The quota itself is the
-- plugin's configuration (plugins.files.account_quota_bytes).
CREATE TABLE files_account_usage (
    account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    used_bytes bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Blobs whose rows are gone but whose removal from storage has not succeeded yet; written in
-- the transaction that deletes the rows, retried by the sweeper.
CREATE TABLE file_blob_deletions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    storage_id  uuid NOT NULL,
    storage_key text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);
