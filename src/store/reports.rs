//! What the routing report reads: one workspace's assignments in a window, its operators'
//! moves away as unanswered, and its queue now. Each reads through an index that starts with
//! the operator (`assignment_events_to`, which holds every column read, and
//! `assignment_events_from`) or the workspace (`conversations_open_load`), so other
//! workspaces' history costs nothing and a window is one range per operator.

use super::Db;
use super::StoreResult;
use super::conversations::queued_condition;
use super::sql::{self, from_row};
use crate::domain::report::{Assignment, Window};
use crate::domain::{Id, Millis};

/// Every assignment to an operator of the workspace in the window, with the handover it ended
/// (when it took the chat from nobody) and the assignee's first reply after it.
pub async fn assignments(
    conn: &mut Db,
    workspace_id: Id,
    window: Window,
) -> StoreResult<Vec<Assignment>> {
    let rows: Vec<AssignmentRow> = sql::query_as(
        "SELECT a.to_operator_id AS operator_id, a.reason, a.at, \
             CASE WHEN a.from_operator_id IS NULL THEN a.handed_off_at END AS waiting_since, \
             a.first_reply_at \
         FROM operators o JOIN assignment_events a ON a.to_operator_id = o.id \
         WHERE o.workspace_id = $1 AND a.at >= $2 AND a.at < $3",
    )
    .bind(workspace_id)
    .bind(window.from)
    .bind(window.to)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Assignment {
            operator_id: r.operator_id,
            reason: r.reason,
            at: r.at,
            waiting_since: r.waiting_since,
            first_reply_at: r.first_reply_at,
        })
        .collect())
}

struct AssignmentRow {
    operator_id: Id,
    reason: String,
    at: Millis,
    waiting_since: Option<Millis>,
    first_reply_at: Option<Millis>,
}
from_row!(AssignmentRow {
    operator_id,
    reason,
    at,
    waiting_since,
    first_reply_at
});

/// Per operator of the workspace, how many chats routing moved away from them in the window
/// because they left them unanswered (SPEC 9's reason `unanswered`).
pub async fn unanswered_moves(
    conn: &mut Db,
    workspace_id: Id,
    window: Window,
) -> StoreResult<Vec<(Id, i64)>> {
    Ok(sql::query_as(
        "SELECT a.from_operator_id, COUNT(*) \
         FROM operators o JOIN assignment_events a ON a.from_operator_id = o.id \
         WHERE o.workspace_id = $1 AND a.at >= $2 AND a.at < $3 AND a.reason = 'unanswered' \
         GROUP BY a.from_operator_id",
    )
    .bind(workspace_id)
    .bind(window.from)
    .bind(window.to)
    .fetch_all(conn)
    .await?)
}

pub struct Queue {
    pub length: i64,
    /// When the chat waiting longest was handed to the team.
    pub oldest_since: Option<Millis>,
}

/// The workspace's queued chats now, and since when the oldest has waited in line.
pub async fn queue(conn: &mut Db, workspace_id: Id) -> StoreResult<Queue> {
    let (length, oldest_since): (i64, Option<Millis>) = sql::query_as(concat!(
        "SELECT COUNT(*), MIN(c.queued_at) FROM conversations c \
         JOIN widgets w ON w.id = c.widget_id \
         WHERE c.workspace_id = $1 AND c.queued_at IS NOT NULL AND ",
        queued_condition!()
    ))
    .bind(workspace_id)
    .fetch_one(conn)
    .await?;
    Ok(Queue {
        length,
        oldest_since,
    })
}
