-- no-transaction
-- One email may belong to an operator in each of several workspaces: unique per workspace,
-- not per server, so that nothing about one workspace shows through another's answers.
-- SQLite cannot drop a column's UNIQUE constraint, so the table is rebuilt. Foreign keys are
-- off while it is (a DROP would otherwise cascade to sessions and null every assignee), and
-- the rebuild is one transaction.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE operators_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'operator')),
    availability TEXT NOT NULL DEFAULT 'available' CHECK (availability IN ('available', 'away')),
    last_assigned_at INTEGER,
    created_at INTEGER NOT NULL,
    notify_push INTEGER NOT NULL DEFAULT 1,
    notify_email INTEGER NOT NULL DEFAULT 1,
    UNIQUE (workspace_id, email)
);
INSERT INTO operators_rebuilt (id, workspace_id, name, email, password_hash, role, availability,
                               last_assigned_at, created_at, notify_push, notify_email)
    SELECT id, workspace_id, name, email, password_hash, role, availability,
           last_assigned_at, created_at, notify_push, notify_email
    FROM operators;
DROP TABLE operators;
ALTER TABLE operators_rebuilt RENAME TO operators;
CREATE INDEX operators_join_order ON operators(workspace_id, created_at, id);
CREATE INDEX operators_email ON operators(email);
COMMIT;
PRAGMA foreign_keys = ON;
