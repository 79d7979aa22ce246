//! Notification settings, browsers' push subscriptions, the notification outbox and
//! server-wide settings.

use super::Db;
use super::sql::{self, from_row};
use super::{Backend, StoreResult};
use crate::domain::notification::OutboxKind;
use crate::domain::{Id, Millis, visitor};

/// Which channels an operator wants "assigned to you" notifications on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    pub push: bool,
    pub email: bool,
    /// How long an "assigned to you" email waits, and is dropped if the chat is opened
    /// meanwhile; 0 = at once.
    pub email_delay_secs: i64,
}

impl Channels {
    /// The channels as `operators` keeps them: `notify_push`, `notify_email` (0 or 1) and
    /// `notify_email_delay_secs`.
    pub(super) fn from_columns((push, email, email_delay_secs): (i64, i64, i64)) -> Channels {
        Channels {
            push: push != 0,
            email: email != 0,
            email_delay_secs,
        }
    }
}

/// How a teammate can be told of a chat given to them, as routing reads it with the rest of
/// the team: their channels and whether any browser of theirs is subscribed to push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    pub channels: Channels,
    pub push_subscribed: bool,
}

impl Reach {
    /// Whether an "assigned to you" notice has anywhere to go: email they want (if this server
    /// sends email) or push they want to a subscribed browser.
    pub fn anywhere(&self, email_enabled: bool) -> bool {
        (self.channels.email && email_enabled) || (self.channels.push && self.push_subscribed)
    }
}

pub async fn channels(conn: &mut Db, operator_id: Id) -> StoreResult<Channels> {
    let columns = sql::query_as(
        "SELECT notify_push, notify_email, notify_email_delay_secs FROM operators WHERE id = $1",
    )
    .bind(operator_id)
    .fetch_one(conn)
    .await?;
    Ok(Channels::from_columns(columns))
}

pub async fn set_channels(conn: &mut Db, operator_id: Id, channels: Channels) -> StoreResult<()> {
    sql::query(
        "UPDATE operators SET notify_push = $1, notify_email = $2, notify_email_delay_secs = $3 WHERE id = $4",
    )
    .bind(i64::from(channels.push))
    .bind(i64::from(channels.email))
    .bind(channels.email_delay_secs)
    .bind(operator_id)
        .defer(conn)
        .await?;
    Ok(())
}

/// A browser's push subscription (its `PushSubscription` JSON, flattened).
#[derive(Debug, Clone)]
pub struct PushSubscription {
    pub id: Id,
    pub operator_id: Id,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: Millis,
}
from_row!(PushSubscription {
    id,
    operator_id,
    endpoint,
    p256dh,
    auth,
    created_at
});

const SUBSCRIPTION_COLUMNS: &str = "id, operator_id, endpoint, p256dh, auth, created_at";

/// How to reach the operator, in one statement: their channels and, when push is on, the ids
/// of their push subscriptions, oldest first.
pub async fn reach(conn: &mut Db, operator_id: Id) -> StoreResult<(Channels, Vec<Id>)> {
    let rows: Vec<(i64, i64, i64, Option<Id>)> = sql::query_as(
        "SELECT o.notify_push, o.notify_email, o.notify_email_delay_secs, s.id \
         FROM operators o LEFT JOIN push_subscriptions s \
         ON s.operator_id = o.id AND o.notify_push <> 0 WHERE o.id = $1 ORDER BY s.id",
    )
    .bind(operator_id)
    .fetch_all(conn)
    .await?;
    let Some(&(push, email, email_delay_secs, _)) = rows.first() else {
        return Err(sql::DbError::NoRow.into());
    };
    let channels = Channels::from_columns((push, email, email_delay_secs));
    Ok((channels, rows.iter().filter_map(|row| row.3).collect()))
}

/// What a notice says of its conversation.
#[derive(Debug)]
pub struct NoticeSubject {
    pub widget_name: String,
    /// The visitor's name to show; None if the visitor's record is gone.
    pub visitor_label: Option<String>,
    /// The visitor's latest message, if they wrote one.
    pub preview: Option<String>,
}

/// The conversation's widget, visitor and latest visitor message, in one statement: a notice
/// queued under the workspace's lock waits for one round trip to say what it is about. None if
/// there is no such conversation.
pub async fn notice_subject(
    conn: &mut Db,
    conversation_id: Id,
) -> StoreResult<Option<NoticeSubject>> {
    struct Row {
        widget_name: String,
        visitor_id: Option<Id>,
        visitor_name: Option<String>,
        visitor_email: Option<String>,
        preview: Option<String>,
    }
    from_row!(Row {
        widget_name,
        visitor_id,
        visitor_name,
        visitor_email,
        preview
    });
    let row: Option<Row> = sql::query_as(
        "SELECT w.name AS widget_name, v.id AS visitor_id, v.name AS visitor_name, \
         v.email AS visitor_email, \
         (SELECT body FROM messages WHERE conversation_id = c.id AND author = 'visitor' \
          ORDER BY id DESC LIMIT 1) AS preview \
         FROM conversations c JOIN widgets w ON w.id = c.widget_id \
         LEFT JOIN visitors v ON v.id = c.visitor_id WHERE c.id = $1",
    )
    .bind(conversation_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| NoticeSubject {
        widget_name: row.widget_name,
        visitor_label: row.visitor_id.map(|id| {
            visitor::display_name(
                id,
                row.visitor_name.as_deref(),
                row.visitor_email.as_deref(),
            )
        }),
        preview: row.preview,
    }))
}

/// Saves a subscription for the operator: a new endpoint, or new keys for an endpoint that is
/// already theirs. An endpoint that belongs to someone else is left as it is (`None`): knowing
/// a browser's endpoint must never let anyone take its notifications.
pub async fn upsert_subscription(
    conn: &mut Db,
    operator_id: Id,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    now: Millis,
) -> StoreResult<Option<PushSubscription>> {
    let sql = format!(
        "INSERT INTO push_subscriptions (operator_id, endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth \
         WHERE push_subscriptions.operator_id = excluded.operator_id RETURNING {SUBSCRIPTION_COLUMNS}"
    );
    Ok(sql::query_as(sql)
        .bind(operator_id)
        .bind(endpoint)
        .bind(p256dh)
        .bind(auth)
        .bind(now)
        .fetch_optional(conn)
        .await?)
}

pub async fn subscriptions(conn: &mut Db, operator_id: Id) -> StoreResult<Vec<PushSubscription>> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE operator_id = $1 ORDER BY id"
    );
    Ok(sql::query_as(sql).bind(operator_id).fetch_all(conn).await?)
}

pub async fn subscription(conn: &mut Db, id: Id) -> StoreResult<Option<PushSubscription>> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE id = $1");
    Ok(sql::query_as(sql).bind(id).fetch_optional(conn).await?)
}

/// Removes the operator's subscription with this endpoint; false when there was none.
pub async fn delete_subscription(
    conn: &mut Db,
    operator_id: Id,
    endpoint: &str,
) -> StoreResult<bool> {
    let done =
        sql::query("DELETE FROM push_subscriptions WHERE operator_id = $1 AND endpoint = $2")
            .bind(operator_id)
            .bind(endpoint)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Forgets a subscription the push service says is gone (404/410); its queued
/// notifications go with it.
pub async fn delete_subscription_by_id(conn: &mut Db, id: Id) -> StoreResult<()> {
    sql::query("DELETE FROM push_subscriptions WHERE id = $1")
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// A notification to queue: for an operator, or for an email address (an invitation), or both.
pub struct NewNotification<'a> {
    pub operator_id: Option<Id>,
    pub email: Option<&'a str>,
    pub kind: OutboxKind,
    /// The conversation a visitor is emailed about (`OutboxKind::VisitorReplies`).
    pub conversation_id: Option<Id>,
    pub channel: &'static str,
    pub push_subscription_id: Option<Id>,
    pub idempotency_key: &'a str,
    pub payload: &'a str,
}

/// Queues a notification, to be delivered from `due` on. A key already queued is ignored: at
/// most one row per assignment and channel (and browser), per invitation, per reset link.
pub async fn enqueue(
    conn: &mut Db,
    n: &NewNotification<'_>,
    now: Millis,
    due: Millis,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO notification_outbox \
         (operator_id, email, kind, conversation_id, channel, push_subscription_id, idempotency_key, payload, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(n.operator_id)
    .bind(n.email)
    .bind(n.kind.as_str())
    .bind(n.conversation_id)
    .bind(n.channel)
    .bind(n.push_subscription_id)
    .bind(n.idempotency_key)
    .bind(n.payload)
    .bind(due)
    .bind(now)
    .defer(conn)
    .await?;
    Ok(())
}

/// Drops a queued notification that no longer makes sense (its invitation was revoked or
/// replaced), unless it is already done. A worker delivering it right now finds its outcome
/// unrecorded.
pub async fn cancel(conn: &mut Db, idempotency_key: &str) -> StoreResult<()> {
    sql::query(
        "DELETE FROM notification_outbox WHERE idempotency_key = $1 AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(idempotency_key)
    .defer(conn)
    .await?;
    Ok(())
}

/// The email of replies a visitor missed in the conversation that is still waiting to go, and
/// that no worker is delivering right now: more replies join it. Its id and payload.
pub async fn pending_visitor_replies(
    conn: &mut Db,
    conversation_id: Id,
    now: Millis,
) -> StoreResult<Option<(Id, String)>> {
    Ok(sql::query_as(
        "SELECT id, payload FROM notification_outbox WHERE conversation_id = $1 AND kind = 'visitor_replies' \
         AND sent_at IS NULL AND failed_at IS NULL AND (locked_until IS NULL OR locked_until <= $2) \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(conversation_id)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// Rewrites a queued row's payload (more replies joined the email), unless it is done.
pub async fn set_payload(conn: &mut Db, id: Id, payload: &str) -> StoreResult<()> {
    sql::query(
        "UPDATE notification_outbox SET payload = $1 WHERE id = $2 AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(payload)
    .bind(id)
    .defer(conn)
    .await?;
    Ok(())
}

/// Drops the emails of missed replies still waiting for a visitor who came back, to all their
/// chats or to `conversation_id` only.
pub async fn cancel_visitor_replies(
    conn: &mut Db,
    visitor_id: Id,
    conversation_id: Option<Id>,
) -> StoreResult<()> {
    sql::query(
        "DELETE FROM notification_outbox WHERE kind = 'visitor_replies' AND sent_at IS NULL AND failed_at IS NULL \
         AND conversation_id IN (SELECT id FROM conversations WHERE visitor_id = $1 AND ($2 IS NULL OR id = $2))",
    )
    .bind(visitor_id)
    .bind(conversation_id)
    .defer(conn)
    .await?;
    Ok(())
}

/// Drops everything still queued for an operator who was deactivated.
pub async fn cancel_for_operator(conn: &mut Db, operator_id: Id) -> StoreResult<()> {
    sql::query(
        "DELETE FROM notification_outbox WHERE operator_id = $1 AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(operator_id)
    .defer(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: Id,
    pub operator_id: Option<Id>,
    pub email: Option<String>,
    pub kind: OutboxKind,
    pub channel: String,
    pub push_subscription_id: Option<Id>,
    pub idempotency_key: String,
    pub payload: String,
    pub attempts: i64,
    pub created_at: Millis,
}
from_row!(OutboxRow {
    id,
    operator_id,
    email,
    kind: parsed,
    channel,
    push_subscription_id,
    idempotency_key,
    payload,
    attempts,
    created_at
});

/// Leases up to `limit` due rows until `lease_until`; no two workers, on any node, take the
/// same row (see `Backend::lease_clause`).
pub async fn lease_due(
    conn: &mut Db,
    backend: Backend,
    now: Millis,
    lease_until: Millis,
    limit: u32,
) -> StoreResult<Vec<OutboxRow>> {
    let lock = backend.lease_clause();
    let sql = format!(
        "SELECT id, operator_id, email, kind, channel, push_subscription_id, idempotency_key, payload, attempts, created_at \
         FROM notification_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
         AND (locked_until IS NULL OR locked_until <= $2) ORDER BY next_attempt_at, id LIMIT {limit}{lock}"
    );
    let rows: Vec<OutboxRow> = sql::query_as(sql)
        .bind(now)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
    for row in &rows {
        sql::query("UPDATE notification_outbox SET locked_until = $1 WHERE id = $2")
            .bind(lease_until)
            .bind(row.id)
            .defer(&mut *conn)
            .await?;
    }
    Ok(rows)
}

// The three outcomes below apply only while the caller's lease (`lease_until`) still holds
// the row: once it has run out and another worker took the row, the late outcome is dropped
// (false) rather than clearing that worker's lease. The two final ones empty the payload when
// told to (`forget_payload`: it held a one-time link, kept only to be sent).

pub async fn mark_sent(
    conn: &mut Db,
    id: Id,
    lease_until: Millis,
    now: Millis,
    forget_payload: bool,
) -> StoreResult<bool> {
    let done = sql::query(
        "UPDATE notification_outbox SET sent_at = $1, locked_until = NULL, attempts = attempts + 1, last_error = NULL, \
         payload = CASE WHEN $4 = 1 THEN '' ELSE payload END WHERE id = $2 AND locked_until = $3",
    )
    .bind(now)
    .bind(id)
    .bind(lease_until)
    .bind(i64::from(forget_payload))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn schedule_retry(
    conn: &mut Db,
    id: Id,
    lease_until: Millis,
    next_attempt_at: Millis,
    error: &str,
) -> StoreResult<bool> {
    let done = sql::query(
        "UPDATE notification_outbox SET attempts = attempts + 1, next_attempt_at = $1, locked_until = NULL, \
         last_error = $2 WHERE id = $3 AND locked_until = $4",
    )
    .bind(next_attempt_at)
    .bind(error)
    .bind(id)
    .bind(lease_until)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_failed(
    conn: &mut Db,
    id: Id,
    lease_until: Millis,
    now: Millis,
    error: &str,
    forget_payload: bool,
) -> StoreResult<bool> {
    let done = sql::query(
        "UPDATE notification_outbox SET attempts = attempts + 1, failed_at = $1, locked_until = NULL, last_error = $2, \
         payload = CASE WHEN $5 = 1 THEN '' ELSE payload END WHERE id = $3 AND locked_until = $4",
    )
    .bind(now)
    .bind(error)
    .bind(id)
    .bind(lease_until)
    .bind(i64::from(forget_payload))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many notifications were delivered to an operator, per channel (for the settings page
/// and tests).
pub async fn sent_count(conn: &mut Db, operator_id: Id, channel: &str) -> StoreResult<u64> {
    let (n,): (i64,) = sql::query_as(
        "SELECT COUNT(*) FROM notification_outbox WHERE operator_id = $1 AND channel = $2 AND sent_at IS NOT NULL",
    )
    .bind(operator_id)
    .bind(channel)
    .fetch_one(conn)
    .await?;
    Ok(n.max(0) as u64)
}

pub async fn setting(conn: &mut Db, name: &str) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = sql::query_as("SELECT value FROM server_settings WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(v,)| v))
}

/// Stores `value` unless the setting exists; returns the stored value either way, so that
/// nodes starting together agree on one.
pub async fn setting_or_insert(conn: &mut Db, name: &str, value: &str) -> StoreResult<String> {
    sql::query(
        "INSERT INTO server_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(value)
    .defer(&mut *conn)
    .await?;
    Ok(setting(conn, name)
        .await?
        .unwrap_or_else(|| value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::{Channels, Reach};

    fn reach(push: bool, email: bool, push_subscribed: bool) -> Reach {
        Reach {
            channels: Channels {
                push,
                email,
                email_delay_secs: 0,
            },
            push_subscribed,
        }
    }

    /// A notice goes by email only where this server sends email, and by push only to a
    /// subscribed browser; with neither, it has nowhere to go.
    #[test]
    fn a_notice_has_somewhere_to_go_only_by_a_channel_that_can_carry_it() {
        // Wanting both is not enough without a subscribed browser or a server that emails.
        assert!(!reach(true, true, false).anywhere(false));
        assert!(reach(true, true, false).anywhere(true));
        assert!(reach(true, true, true).anywhere(false));
        // A subscribed browser carries nothing once push is switched off.
        assert!(!reach(false, false, true).anywhere(true));
        assert!(!reach(false, true, true).anywhere(false));
        assert!(reach(false, true, false).anywhere(true));
    }
}
