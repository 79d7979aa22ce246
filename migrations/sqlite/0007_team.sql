-- The team (SPEC 11): each operator's capacity and whether they are deactivated, invitations
-- by email, password resets, and an outbox that can also mail an address that is no operator
-- yet (an invitation).

-- The most open chats auto-routing may give them; NULL = no limit.
ALTER TABLE operators ADD COLUMN capacity INTEGER;
-- Set while deactivated: no sign-in, no routing; they stay in history under their name.
ALTER TABLE operators ADD COLUMN deactivated_at INTEGER;

-- Only the SHA-256 of each link's token is kept. Pending = not accepted, not revoked, not
-- expired; one open invitation per email and workspace (a new one revokes the old).
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'operator')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by INTEGER REFERENCES operators(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX invitations_workspace ON invitations(workspace_id, id);
CREATE UNIQUE INDEX invitations_open_email ON invitations(workspace_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE password_resets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX password_resets_operator ON password_resets(operator_id);

-- The outbox, rebuilt because SQLite cannot drop a NOT NULL: a row is for an operator, or for
-- an email address (`email`), or both; `kind` says what its payload is. Nothing references
-- this table, so it can be dropped and renamed with foreign keys on, in the migration's own
-- transaction.
CREATE TABLE notification_outbox_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id INTEGER REFERENCES operators(id) ON DELETE CASCADE,
    email TEXT,
    kind TEXT NOT NULL DEFAULT 'assignment' CHECK (kind IN ('assignment', 'invitation', 'password_reset')),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    push_subscription_id INTEGER REFERENCES push_subscriptions(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until INTEGER,
    last_error TEXT,
    sent_at INTEGER,
    failed_at INTEGER,
    created_at INTEGER NOT NULL,
    CHECK (operator_id IS NOT NULL OR email IS NOT NULL)
);
INSERT INTO notification_outbox_rebuilt (id, operator_id, channel, push_subscription_id,
        idempotency_key, payload, attempts, next_attempt_at, locked_until, last_error, sent_at,
        failed_at, created_at)
    SELECT id, operator_id, channel, push_subscription_id, idempotency_key, payload, attempts,
           next_attempt_at, locked_until, last_error, sent_at, failed_at, created_at
    FROM notification_outbox;
DROP TABLE notification_outbox;
ALTER TABLE notification_outbox_rebuilt RENAME TO notification_outbox;
CREATE INDEX notification_outbox_due ON notification_outbox(next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX notification_outbox_operator ON notification_outbox(operator_id);
