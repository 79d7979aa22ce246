-- The live event log: every event is written in the transaction that caused it, so a stream
-- can resume after a gap (`?since=`) and other nodes can fetch an event by its id.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL,
    -- The visitor whose conversation it concerns, for the visitor's own stream.
    visitor_id INTEGER,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_workspace ON events(workspace_id, id);
CREATE INDEX events_created ON events(created_at);
