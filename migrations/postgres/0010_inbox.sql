-- The inbox people work in all day (SPEC 12): how far each operator has read each
-- conversation (the unread marker on inbox rows, and whether an assignment was opened before
-- its delayed email), and how long an "assigned to you" email waits for that.
CREATE TABLE conversation_reads (
    operator_id BIGINT NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- The newest message they had on screen; visitor messages after it are unread.
    last_read_message_id BIGINT NOT NULL,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (operator_id, conversation_id)
);

-- 0 = at once.
ALTER TABLE operators ADD COLUMN notify_email_delay_secs BIGINT NOT NULL DEFAULT 0;
