//! How far each operator has read each conversation: the unread marker on inbox rows, and
//! whether an assignment was opened before its delayed email went out.

use super::Db;
use super::sql;
use std::collections::HashMap;

use super::StoreResult;
use crate::domain::{Id, Millis};

/// Marks everything in the conversation so far as read by the operator. The marker only moves
/// forward: a tab that asks late, with an older view, does not make new messages unread again.
pub async fn mark_read(
    conn: &mut Db,
    operator_id: Id,
    conversation_id: Id,
    now: Millis,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO conversation_reads (operator_id, conversation_id, last_read_message_id, read_at) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(id), 0) FROM messages WHERE conversation_id = $2), $3) \
         ON CONFLICT (operator_id, conversation_id) DO UPDATE SET read_at = excluded.read_at, \
         last_read_message_id = CASE WHEN excluded.last_read_message_id > conversation_reads.last_read_message_id \
         THEN excluded.last_read_message_id ELSE conversation_reads.last_read_message_id END",
    )
    .bind(operator_id)
    .bind(conversation_id)
    .bind(now)
    .defer(conn)
    .await?;
    Ok(())
}

/// Whether the operator opened the conversation at or after `since`.
pub async fn opened_since(
    conn: &mut Db,
    operator_id: Id,
    conversation_id: Id,
    since: Millis,
) -> StoreResult<bool> {
    let row: Option<(i64,)> = sql::query_as(
        "SELECT read_at FROM conversation_reads WHERE operator_id = $1 AND conversation_id = $2 AND read_at >= $3",
    )
    .bind(operator_id)
    .bind(conversation_id)
    .bind(since)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some())
}

/// What an inbox row shows besides the conversation itself, for one operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowMarks {
    /// The visitor wrote after the newest message this operator has read.
    pub unread: bool,
    /// The visitor's first message since the last operator reply: how long they have waited
    /// for a person. `None` when a person answered everything they wrote.
    pub waiting_since: Option<Millis>,
}

/// A conversation, its newest visitor message, the operator's read marker, and the first
/// visitor message since the last operator reply.
type MarkRow = (Id, Option<Id>, Option<Id>, Option<Millis>);

/// The marks of these conversations for the operator; conversations without messages are
/// left out.
pub async fn row_marks(
    conn: &mut Db,
    operator_id: Id,
    conversation_ids: &[Id],
) -> StoreResult<HashMap<Id, RowMarks>> {
    if conversation_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list: Vec<String> = conversation_ids.iter().map(Id::to_string).collect();
    // Only integers went into the list; the operator is bound.
    let sql = format!(
        "SELECT c.id, \
         (SELECT MAX(m.id) FROM messages m WHERE m.conversation_id = c.id AND m.author = 'visitor'), \
         (SELECT r.last_read_message_id FROM conversation_reads r WHERE r.conversation_id = c.id AND r.operator_id = $1), \
         (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id AND m.author = 'visitor' \
          AND m.id > COALESCE((SELECT MAX(o.id) FROM messages o WHERE o.conversation_id = c.id AND o.author = 'operator'), 0)) \
         FROM conversations c WHERE c.id IN ({})",
        list.join(",")
    );
    let rows: Vec<MarkRow> = sql::query_as(sql).bind(operator_id).fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(id, last_visitor, last_read, waiting_since)| {
            let unread = last_visitor.is_some_and(|v| last_read.is_none_or(|r| v > r));
            (
                id,
                RowMarks {
                    unread,
                    waiting_since,
                },
            )
        })
        .collect())
}
