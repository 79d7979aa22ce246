//! Which visitors have a widget stream open, on any node. Each serving process is a row of
//! `stream_nodes` that it keeps alive; a visitor's stream is a row naming its node, deleted when
//! the stream ends. A node that dies leaves its rows, which stop counting once its
//! `alive_until` passes, and are cleared by the next node's heartbeat.

use super::Db;
use super::StoreResult;
use super::sql;
use crate::domain::{Id, Millis};

/// A dead node's rows are cleared this long after it stopped beating.
const CLEAR_AFTER_MS: Millis = 60 * 60 * 1000;

/// Records a stream of the visitor opened on `node_id`, following all their chats or only
/// `conversation_id`; returns its row's id.
pub async fn open(
    conn: &mut Db,
    visitor_id: Id,
    conversation_id: Option<Id>,
    node_id: &str,
    now: Millis,
) -> StoreResult<Id> {
    let (id,): (Id,) = sql::query_as(
        "INSERT INTO visitor_streams (visitor_id, conversation_id, node_id, opened_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(visitor_id)
    .bind(conversation_id)
    .bind(node_id)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn close(conn: &mut Db, id: Id) -> StoreResult<()> {
    sql::query("DELETE FROM visitor_streams WHERE id = $1")
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// Whether the visitor follows the conversation on a stream open on a node that is alive.
pub async fn any_open(
    conn: &mut Db,
    visitor_id: Id,
    conversation_id: Id,
    now: Millis,
) -> StoreResult<bool> {
    let row: Option<(i64,)> = sql::query_as(
        "SELECT 1 FROM visitor_streams s JOIN stream_nodes n ON n.id = s.node_id \
         WHERE s.visitor_id = $1 AND (s.conversation_id IS NULL OR s.conversation_id = $2) \
         AND n.alive_until > $3 LIMIT 1",
    )
    .bind(visitor_id)
    .bind(conversation_id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// Keeps `node_id` alive until `alive_until`, and clears what nodes dead for long left behind.
pub async fn heartbeat(
    conn: &mut Db,
    node_id: &str,
    alive_until: Millis,
    now: Millis,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO stream_nodes (id, alive_until) VALUES ($1, $2) \
         ON CONFLICT (id) DO UPDATE SET alive_until = excluded.alive_until",
    )
    .bind(node_id)
    .bind(alive_until)
    .defer(&mut *conn)
    .await?;
    let dead_before = now - CLEAR_AFTER_MS;
    sql::query(
        "DELETE FROM visitor_streams WHERE node_id IN (SELECT id FROM stream_nodes WHERE alive_until < $1)",
    )
    .bind(dead_before)
    .defer(&mut *conn)
    .await?;
    sql::query("DELETE FROM stream_nodes WHERE alive_until < $1")
        .bind(dead_before)
        .defer(conn)
        .await?;
    Ok(())
}
