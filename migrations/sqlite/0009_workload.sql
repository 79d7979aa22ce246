-- Workload (SPEC 9) and routing you can see (SPEC 10): when a chat joined the queue, the two
-- widget timers, why each operator is Away and whether they had an inbox tab open, the
-- decision behind each routed assignment, and the deadlines that fire later (durable timers).

-- When the chat last became unassigned while needing a human; NULL while someone has it, the
-- AI handles it, or it is closed.
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
UPDATE conversations SET queued_at = last_message_at
    WHERE status = 'handed_off' AND assignee_id IS NULL;
-- The place in line the visitor was last told (SPEC 10), to tell them only of changes.
ALTER TABLE conversations ADD COLUMN queue_position INTEGER;
CREATE INDEX conversations_queue ON conversations(workspace_id, queued_at, id)
    WHERE queued_at IS NOT NULL;
CREATE INDEX conversations_told_place ON conversations(workspace_id, id)
    WHERE queue_position IS NOT NULL;

-- NULL = off. Reassign an unanswered routed chat after this long; close a silent chat after
-- this long.
ALTER TABLE widgets ADD COLUMN reassign_after_secs INTEGER;
ALTER TABLE widgets ADD COLUMN auto_close_after_secs INTEGER;

-- `manual` or `no_open_tab`: why they are Away (or, once back, how they last changed).
ALTER TABLE operators ADD COLUMN availability_reason TEXT NOT NULL DEFAULT 'manual'
    CHECK (availability_reason IN ('manual', 'no_open_tab'));
-- Inbox event streams open now, on every node.
ALTER TABLE operators ADD COLUMN open_tabs INTEGER NOT NULL DEFAULT 0;
-- 1 once they opened a tab since turning Available: only then may closing it turn them Away.
ALTER TABLE operators ADD COLUMN had_tab INTEGER NOT NULL DEFAULT 0;

-- The routing decision (JSON) behind an assignment made by routing; NULL for the others.
ALTER TABLE assignment_events ADD COLUMN decision TEXT;
-- Set when routing took the chat from the queue: when it had been queued since.
ALTER TABLE assignment_events ADD COLUMN queued_at INTEGER;
-- How long the chat waited for this routed assignment (0 when routed at once), for estimates.
ALTER TABLE assignment_events ADD COLUMN wait_ms INTEGER;

-- Deadlines: one per kind and subject (a conversation, or an operator for `presence`). A node
-- fires one by deleting it in the workspace's locked transaction that acts on it, so each
-- fires once however many nodes race for it, and not at all if that transaction rolls back.
CREATE TABLE timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('reassign', 'auto_close', 'presence')),
    subject_id INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    UNIQUE (kind, subject_id)
);
CREATE INDEX timers_due ON timers(due_at);
