-- Reaching the visitor who left, and the routing report (SPEC 10): when each chat was handed
-- to the team, which handover each assignment answered and the assignee's first reply after it, the visitor streams
-- open on every node (so a reply is emailed only to a visitor who is not there), the links
-- that open one chat from an email, an outbox row kind for those emails, and the indexes the
-- report reads through.

-- When the chat last came to need a person (became `handed_off`); NULL while the AI has it.
-- Older chats get their first system note (the handover note), else their first assignment.
ALTER TABLE conversations ADD COLUMN handed_off_at BIGINT;
UPDATE conversations SET handed_off_at = COALESCE(
        (SELECT MIN(m.created_at) FROM messages m
         WHERE m.conversation_id = conversations.id AND m.author = 'system'),
        (SELECT MIN(a.at) FROM assignment_events a WHERE a.conversation_id = conversations.id),
        created_at)
    WHERE status <> 'active';

-- The chat's `handed_off_at` when the assignment was made: the wait it ended started then.
ALTER TABLE assignment_events ADD COLUMN handed_off_at BIGINT;
UPDATE assignment_events SET handed_off_at = (
        SELECT c.handed_off_at FROM conversations c
        WHERE c.id = assignment_events.conversation_id AND c.handed_off_at <= assignment_events.at);

-- The assignee's first reply after the assignment, for the report's reply times; history gets
-- it from the messages.
ALTER TABLE assignment_events ADD COLUMN first_reply_at BIGINT;
UPDATE assignment_events SET first_reply_at = (
        SELECT MIN(m.created_at) FROM messages m
        WHERE m.conversation_id = assignment_events.conversation_id
          AND m.operator_id = assignment_events.to_operator_id AND m.created_at >= assignment_events.at)
    WHERE to_operator_id IS NOT NULL;

-- The report reads each operator's assignments in a window from this index alone, and the
-- moves away from them from the second.
CREATE INDEX assignment_events_to ON assignment_events(to_operator_id, at, reason, from_operator_id,
    handed_off_at, first_reply_at);
CREATE INDEX assignment_events_from ON assignment_events(from_operator_id, at);

-- Each serving process, alive while it keeps `alive_until` ahead of the clock.
CREATE TABLE stream_nodes (
    id TEXT PRIMARY KEY,
    alive_until BIGINT NOT NULL
);
-- A visitor's open stream, on the node holding it: open while that node is alive. A widget's
-- follows all their chats; a chat link's page (`conversation_id`) only that one.
CREATE TABLE visitor_streams (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visitor_id BIGINT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    conversation_id BIGINT REFERENCES conversations(id) ON DELETE CASCADE,
    node_id TEXT NOT NULL,
    opened_at BIGINT NOT NULL
);
CREATE INDEX visitor_streams_visitor ON visitor_streams(visitor_id);
CREATE INDEX visitor_streams_node ON visitor_streams(node_id);

-- `{public_url}/chat/{token}`: one conversation, for whoever holds the emailed link. Only the
-- SHA-256 of the token is kept.
CREATE TABLE chat_links (
    token_hash TEXT PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX chat_links_conversation ON chat_links(conversation_id);

-- A `visitor_replies` row emails a visitor the replies they missed in `conversation_id`.
ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_kind_check;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_kind_check
    CHECK (kind IN ('assignment', 'invitation', 'password_reset', 'visitor_replies'));
ALTER TABLE notification_outbox ADD COLUMN conversation_id BIGINT
    REFERENCES conversations(id) ON DELETE CASCADE;
CREATE INDEX notification_outbox_conversation ON notification_outbox(conversation_id)
    WHERE conversation_id IS NOT NULL;
