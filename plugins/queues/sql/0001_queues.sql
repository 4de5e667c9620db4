-- Results reported by jobs through POST /api/v1/worker/job_results: one row per jid, so a job
-- that runs twice (at-least-once delivery) is recorded once. Not owned by an account: the
-- worker's service principal has none.
CREATE TABLE queues_job_results (
    jid             text PRIMARY KEY CHECK (jid ~ '^[0-9a-f]{24}$'),
    ref             jsonb,
    idempotency_key text,
    reports         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
