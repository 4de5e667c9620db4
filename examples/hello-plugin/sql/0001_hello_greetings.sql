-- Greetings of the example plugin, one account's rows never visible to another.
CREATE TABLE hello_greetings (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    message text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hello_greetings_account_idx ON hello_greetings (account_id, id DESC);
