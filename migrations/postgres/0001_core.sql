-- Workspaces, operators, sessions, widgets, visitors, conversations, messages and the
-- assignment log. Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE workspaces (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    -- Bumped as the first statement of every transaction that may change an assignee, so that
    -- those transactions are serialised per workspace.
    lock_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE operators (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'operator')),
    availability TEXT NOT NULL DEFAULT 'available' CHECK (availability IN ('available', 'away')),
    last_assigned_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX operators_join_order ON operators(workspace_id, created_at, id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    operator_id BIGINT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_operator ON sessions(operator_id);

CREATE TABLE widgets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    routing_mode TEXT NOT NULL DEFAULT 'manual' CHECK (routing_mode IN ('manual', 'round_robin', 'lightest_load')),
    -- The join position of the operator round-robin last chose; no foreign key, so the
    -- rotation goes on from where they stood after they leave.
    rr_cursor_joined_at BIGINT,
    rr_cursor_operator_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX widgets_workspace ON widgets(workspace_id, id);

CREATE TABLE widget_eligible_operators (
    widget_id BIGINT NOT NULL REFERENCES widgets(id) ON DELETE CASCADE,
    operator_id BIGINT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    PRIMARY KEY (widget_id, operator_id)
);

CREATE TABLE visitors (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    widget_id BIGINT NOT NULL REFERENCES widgets(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE conversations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    widget_id BIGINT NOT NULL REFERENCES widgets(id) ON DELETE CASCADE,
    visitor_id BIGINT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('active', 'handed_off', 'closed')),
    assignee_id BIGINT REFERENCES operators(id) ON DELETE SET NULL,
    waiting_reason TEXT,
    last_message_preview TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL
);
CREATE INDEX conversations_inbox ON conversations(workspace_id, last_message_at, id);
CREATE INDEX conversations_open_load ON conversations(workspace_id, status, assignee_id);
CREATE INDEX conversations_assignee_inbox ON conversations(assignee_id, last_message_at, id);
CREATE INDEX conversations_visitor ON conversations(visitor_id);

CREATE TABLE messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    author TEXT NOT NULL CHECK (author IN ('visitor', 'ai', 'operator', 'system')),
    operator_id BIGINT REFERENCES operators(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);

CREATE TABLE assignment_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    from_operator_id BIGINT REFERENCES operators(id) ON DELETE SET NULL,
    to_operator_id BIGINT REFERENCES operators(id) ON DELETE SET NULL,
    reason TEXT NOT NULL,
    actor_id BIGINT REFERENCES operators(id) ON DELETE SET NULL,
    at BIGINT NOT NULL
);
CREATE INDEX assignment_events_conversation ON assignment_events(conversation_id, id);
