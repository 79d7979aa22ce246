-- The live event log: every event is written in the transaction that caused it, so a stream
-- can resume after a gap (`?since=`) and other nodes can fetch an event by its id.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL,
    -- The visitor whose conversation it concerns, for the visitor's own stream.
    visitor_id BIGINT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_workspace ON events(workspace_id, id);
CREATE INDEX events_created ON events(created_at);
