-- Personal "assigned to you" notifications: per-operator channel switches, browsers' push
-- subscriptions, the durable outbox, and server-wide settings (the generated VAPID key).

ALTER TABLE operators ADD COLUMN notify_push INTEGER NOT NULL DEFAULT 1;
ALTER TABLE operators ADD COLUMN notify_email INTEGER NOT NULL DEFAULT 1;

-- Personal events (e.g. widget.conversation_assigned) go to one operator's streams only.
ALTER TABLE events ADD COLUMN recipient_id INTEGER;

CREATE TABLE server_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE push_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_operator ON push_subscriptions(operator_id);

-- One row per notification to deliver, written in the transaction of the assignment that
-- caused it. A worker leases due rows (`locked_until`), delivers, and marks them sent, or
-- schedules a retry with backoff, or gives up (`failed_at`).
CREATE TABLE notification_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
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
    created_at INTEGER NOT NULL
);
CREATE INDEX notification_outbox_due ON notification_outbox(next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
