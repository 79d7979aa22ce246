//! What the metrics read from the database when they are scraped: each one indexed query,
//! over every workspace of the deployment.

use super::Db;
use super::StoreResult;
use super::conversations::queued_condition;
use super::sql;
use crate::domain::Millis;

pub struct Queue {
    pub length: i64,
    /// When the oldest queued chat joined the queue (`queued_at`: when it last became
    /// unassigned while needing a human).
    pub oldest_since: Option<Millis>,
}

/// The queued chats of every workspace. Driven from the workspaces, so each workspace's part
/// is read through `conversations_queue`.
pub async fn queue(conn: &mut Db) -> StoreResult<Queue> {
    let (length, oldest_since): (i64, Option<i64>) = sql::query_as(concat!(
        "SELECT COUNT(*), MIN(c.queued_at) FROM workspaces ws \
         JOIN conversations c ON c.workspace_id = ws.id AND c.queued_at IS NOT NULL \
         JOIN widgets w ON w.id = c.widget_id WHERE ",
        queued_condition!()
    ))
    .fetch_one(conn)
    .await?;
    Ok(Queue {
        length,
        oldest_since,
    })
}

/// Notifications neither delivered nor given up, per channel (through the outbox's partial
/// index of exactly those rows).
pub async fn notifications_pending(conn: &mut Db) -> StoreResult<Vec<(String, i64)>> {
    Ok(sql::query_as(
        "SELECT channel, COUNT(*) FROM notification_outbox \
         WHERE sent_at IS NULL AND failed_at IS NULL GROUP BY channel",
    )
    .fetch_all(conn)
    .await?)
}
