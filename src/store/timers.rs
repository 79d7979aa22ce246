//! Durable deadlines (SPEC 9): one row per kind and subject. Arming one again moves it. A node
//! fires a deadline by deleting its row (`take`) inside the workspace's locked transaction that
//! acts on it: of several nodes only the first finds it, and a rollback puts it back.

use super::Db;
use super::StoreResult;
use super::sql::{self, from_row};
use crate::domain::{Id, Millis, TimerKind};

#[derive(Debug, Clone)]
pub struct Timer {
    pub id: Id,
    pub workspace_id: Id,
    pub kind: TimerKind,
    pub subject_id: Id,
    pub due_at: Millis,
}
from_row!(Timer {
    id,
    workspace_id,
    kind: parsed,
    subject_id,
    due_at
});

/// Sets the deadline of `kind` for `subject_id` to `due_at`, replacing any earlier one.
pub async fn arm(
    conn: &mut Db,
    workspace_id: Id,
    kind: TimerKind,
    subject_id: Id,
    due_at: Millis,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO timers (workspace_id, kind, subject_id, due_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kind, subject_id) DO UPDATE SET due_at = excluded.due_at",
    )
    .bind(workspace_id)
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(due_at)
    .defer(conn)
    .await?;
    Ok(())
}

pub async fn cancel(conn: &mut Db, kind: TimerKind, subject_id: Id) -> StoreResult<()> {
    sql::query("DELETE FROM timers WHERE kind = $1 AND subject_id = $2")
        .bind(kind.as_str())
        .bind(subject_id)
        .defer(conn)
        .await?;
    Ok(())
}

/// Arms the auto-close of each open conversation of the widget at its last message plus
/// `after_secs`.
pub async fn arm_auto_close_of_widget(
    conn: &mut Db,
    widget_id: Id,
    after_secs: i64,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO timers (workspace_id, kind, subject_id, due_at) \
         SELECT workspace_id, 'auto_close', id, last_message_at + $2 * 1000 FROM conversations \
         WHERE widget_id = $1 AND status IN ('active', 'handed_off') \
         ON CONFLICT (kind, subject_id) DO UPDATE SET due_at = excluded.due_at",
    )
    .bind(widget_id)
    .bind(after_secs)
    .defer(conn)
    .await?;
    Ok(())
}

/// Forgets the auto-close deadlines of the widget's conversations.
pub async fn cancel_auto_close_of_widget(conn: &mut Db, widget_id: Id) -> StoreResult<()> {
    sql::query(
        "DELETE FROM timers WHERE kind = 'auto_close' AND subject_id IN \
         (SELECT id FROM conversations WHERE widget_id = $1)",
    )
    .bind(widget_id)
    .defer(conn)
    .await?;
    Ok(())
}

/// Deadlines due at `now`, earliest first.
pub async fn due(conn: &mut Db, now: Millis, limit: u32) -> StoreResult<Vec<Timer>> {
    Ok(sql::query_as(
        "SELECT id, workspace_id, kind, subject_id, due_at FROM timers WHERE due_at <= $1 \
         ORDER BY due_at, id LIMIT $2",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?)
}

/// The earliest deadline, if any.
pub async fn next_due(conn: &mut Db) -> StoreResult<Option<Millis>> {
    let (next,): (Option<i64>,) = sql::query_as("SELECT MIN(due_at) FROM timers")
        .fetch_one(conn)
        .await?;
    Ok(next)
}

/// Claims a due deadline for firing: deletes it if it is still there and due. Call it in the
/// transaction that acts on it, after locking its workspace.
pub async fn take(conn: &mut Db, id: Id, now: Millis) -> StoreResult<bool> {
    let done = sql::query("DELETE FROM timers WHERE id = $1 AND due_at <= $2")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Arms the conversation's auto-close at its last message plus its widget's
/// `auto_close_after_secs`; nothing when the widget has none.
pub async fn arm_auto_close(conn: &mut Db, conversation_id: Id) -> StoreResult<()> {
    sql::query(
        "INSERT INTO timers (workspace_id, kind, subject_id, due_at) \
         SELECT c.workspace_id, 'auto_close', c.id, c.last_message_at + w.auto_close_after_secs * 1000 \
         FROM conversations c JOIN widgets w ON w.id = c.widget_id \
         WHERE c.id = $1 AND w.auto_close_after_secs IS NOT NULL \
         ON CONFLICT (kind, subject_id) DO UPDATE SET due_at = excluded.due_at",
    )
    .bind(conversation_id)
    .defer(conn)
    .await?;
    Ok(())
}
