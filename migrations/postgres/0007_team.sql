-- The team (SPEC 11): each operator's capacity and whether they are deactivated, invitations
-- by email, password resets, and an outbox that can also mail an address that is no operator
-- yet (an invitation).

-- The most open chats auto-routing may give them; NULL = no limit.
ALTER TABLE operators ADD COLUMN capacity BIGINT;
-- Set while deactivated: no sign-in, no routing; they stay in history under their name.
ALTER TABLE operators ADD COLUMN deactivated_at BIGINT;

-- Only the SHA-256 of each link's token is kept. Pending = not accepted, not revoked, not
-- expired; one open invitation per email and workspace (a new one revokes the old).
CREATE TABLE invitations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'operator')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT REFERENCES operators(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX invitations_workspace ON invitations(workspace_id, id);
CREATE UNIQUE INDEX invitations_open_email ON invitations(workspace_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE password_resets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operator_id BIGINT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_resets_operator ON password_resets(operator_id);

-- A row is for an operator, or for an email address (`email`), or both; `kind` says what its
-- payload is.
ALTER TABLE notification_outbox ALTER COLUMN operator_id DROP NOT NULL;
ALTER TABLE notification_outbox ADD COLUMN email TEXT;
ALTER TABLE notification_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'assignment'
    CHECK (kind IN ('assignment', 'invitation', 'password_reset'));
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_addressed
    CHECK (operator_id IS NOT NULL OR email IS NOT NULL);
CREATE INDEX notification_outbox_operator ON notification_outbox(operator_id);
