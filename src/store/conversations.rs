//! Conversations, their messages and their assignment log.

use super::Db;
use super::sql::{self, from_row};
use super::{AssignmentEvent, Conversation, Message, StoreResult};
use crate::domain::routing::QueuedChat;
use crate::domain::{AssignmentReason, Author, Id, Millis, Status, WaitingReason};

macro_rules! conversation_columns {
    () => {
        "id, workspace_id, widget_id, visitor_id, status, assignee_id, waiting_reason, \
                       last_message_preview, created_at, last_message_at, queued_at"
    };
}
pub(super) use conversation_columns;

/// The condition of a queued chat (SPEC 9) over `c`, a conversation, joined with `w`, its
/// widget: it needs a human, nobody has it, and its widget routes automatically (a manual
/// widget's waiting chats keep `queued_at` but wait to be claimed).
macro_rules! queued_condition {
    () => {
        "(c.queued_at IS NOT NULL AND c.status = 'handed_off' AND c.assignee_id IS NULL \
         AND w.routing_mode <> 'manual')"
    };
}
pub(super) use queued_condition;

/// Longest preview of the last message kept on the inbox row, in characters.
const PREVIEW_CHARS: usize = 140;

pub async fn insert(
    conn: &mut Db,
    workspace_id: Id,
    widget_id: Id,
    visitor_id: Id,
    now: Millis,
) -> StoreResult<Conversation> {
    Ok(sql::query_as(concat!("INSERT INTO conversations (workspace_id, widget_id, visitor_id, status, created_at, last_message_at) \
         VALUES ($1, $2, $3, 'active', $4, $5) RETURNING ", conversation_columns!()))
    .bind(workspace_id)
    .bind(widget_id)
    .bind(visitor_id)
    .bind(now)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// The conversation with this id, only if it belongs to `workspace_id`.
pub async fn get(conn: &mut Db, workspace_id: Id, id: Id) -> StoreResult<Option<Conversation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        conversation_columns!(),
        " FROM conversations WHERE id = $1 AND workspace_id = $2"
    ))
    .bind(id)
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?)
}

/// Conversation `id` of `widget_id`, only if it is one of the visitor's whose token has this
/// hash. One statement, so it holds while visitor records merge.
pub async fn get_for_visitor(
    conn: &mut Db,
    widget_id: Id,
    token_hash: &str,
    id: Id,
) -> StoreResult<Option<Conversation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        conversation_columns!(),
        " FROM conversations WHERE id = $1 AND widget_id = $2 \
         AND visitor_id = (SELECT visitor_id FROM visitor_tokens WHERE token_hash = $3)"
    ))
    .bind(id)
    .bind(widget_id)
    .bind(token_hash)
    .fetch_optional(conn)
    .await?)
}

/// The visitor's conversations, newest activity first.
pub async fn of_visitor(conn: &mut Db, visitor_id: Id) -> StoreResult<Vec<Conversation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        conversation_columns!(),
        " FROM conversations WHERE visitor_id = $1 ORDER BY last_message_at DESC, id DESC"
    ))
    .bind(visitor_id)
    .fetch_all(conn)
    .await?)
}

/// Whose conversations an inbox list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Everyone,
    Unassigned,
    Operator(Id),
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub workspace_id: Id,
    pub assignee: AssigneeFilter,
    /// Empty means any status.
    pub statuses: Vec<Status>,
    /// Continue after this `(last_message_at, id)`, exclusive.
    pub after: Option<(Millis, Id)>,
    pub limit: u32,
}

/// Inbox rows, newest activity first (then highest id).
pub async fn list(conn: &mut Db, q: &ListQuery) -> StoreResult<Vec<Conversation>> {
    let mut sql = concat!(
        "SELECT ",
        conversation_columns!(),
        " FROM conversations WHERE workspace_id = $1"
    )
    .to_owned();
    let mut next_param = 2;
    match q.assignee {
        AssigneeFilter::Everyone => {}
        AssigneeFilter::Unassigned => sql.push_str(" AND assignee_id IS NULL"),
        AssigneeFilter::Operator(_) => {
            sql.push_str(&format!(" AND assignee_id = ${next_param}"));
            next_param += 1;
        }
    }
    sql.push_str(&status_filter(&q.statuses));
    if q.after.is_some() {
        sql.push_str(&format!(
            " AND (last_message_at < ${a} OR (last_message_at = ${b} AND id < ${c}))",
            a = next_param,
            b = next_param + 1,
            c = next_param + 2
        ));
    }
    sql.push_str(&format!(
        " ORDER BY last_message_at DESC, id DESC LIMIT {}",
        q.limit
    ));

    // Only our own literals and numbers went into `sql`; all user values are bound.
    let mut query = sql::query_as(sql).bind(q.workspace_id);
    if let AssigneeFilter::Operator(id) = q.assignee {
        query = query.bind(id);
    }
    if let Some((at, id)) = q.after {
        query = query.bind(at).bind(at).bind(id);
    }
    Ok(query.fetch_all(conn).await?)
}

/// ` AND status IN (...)` for these statuses; nothing when there are none (any status). Only
/// our own enum's literals go into it, never user text.
fn status_filter(statuses: &[Status]) -> String {
    if statuses.is_empty() {
        return String::new();
    }
    let list: Vec<String> = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!(" AND status IN ({})", list.join(", "))
}

/// How many conversations each inbox view holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxCounts {
    /// Assigned to the operator asking.
    pub mine: u64,
    /// Waiting for a human with nobody assigned: the AI's chats are not counted.
    pub unassigned: u64,
    /// The AI is still handling them (`active`).
    pub ai: u64,
    pub all: u64,
}

/// How many conversations with these statuses (empty = any) each inbox view holds.
pub async fn counts(
    conn: &mut Db,
    workspace_id: Id,
    operator_id: Id,
    statuses: &[Status],
) -> StoreResult<InboxCounts> {
    let sql = format!(
        "SELECT SUM(CASE WHEN assignee_id = $2 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN assignee_id IS NULL AND status <> 'active' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), COUNT(*) \
         FROM conversations WHERE workspace_id = $1{}",
        status_filter(statuses)
    );
    let (mine, unassigned, ai, all): (Option<i64>, Option<i64>, Option<i64>, i64) =
        sql::query_as(sql)
            .bind(workspace_id)
            .bind(operator_id)
            .fetch_one(conn)
            .await?;
    // SUM over no rows is NULL.
    let count = |n: Option<i64>| n.unwrap_or(0).max(0) as u64;
    Ok(InboxCounts {
        mine: count(mine),
        unassigned: count(unassigned),
        ai: count(ai),
        all: count(Some(all)),
    })
}

/// The open (`active` or `handed_off`) conversations assigned to the operator, oldest first.
pub async fn open_assigned_to(
    conn: &mut Db,
    workspace_id: Id,
    operator_id: Id,
) -> StoreResult<Vec<Conversation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        conversation_columns!(),
        " FROM conversations WHERE workspace_id = $1 AND assignee_id = $2 \
         AND status IN ('active', 'handed_off') ORDER BY created_at, id"
    ))
    .bind(workspace_id)
    .bind(operator_id)
    .fetch_all(conn)
    .await?)
}

/// Sets the status; becoming `handed_off` at `now` is the chat's handover, which the routing
/// report measures waits from.
pub async fn set_status(conn: &mut Db, id: Id, status: Status, now: Millis) -> StoreResult<()> {
    let handed_off_at = (status == Status::HandedOff).then_some(now);
    sql::query(
        "UPDATE conversations SET status = $1, handed_off_at = COALESCE($2, handed_off_at) WHERE id = $3",
    )
    .bind(status.as_str())
    .bind(handed_off_at)
    .bind(id)
    .defer(conn)
    .await?;
    Ok(())
}

pub async fn set_assignee(conn: &mut Db, id: Id, assignee_id: Option<Id>) -> StoreResult<()> {
    sql::query("UPDATE conversations SET assignee_id = $1, waiting_reason = NULL WHERE id = $2")
        .bind(assignee_id)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

pub async fn set_waiting_reason(
    conn: &mut Db,
    id: Id,
    reason: Option<WaitingReason>,
) -> StoreResult<()> {
    sql::query("UPDATE conversations SET waiting_reason = $1 WHERE id = $2")
        .bind(reason.map(WaitingReason::as_str))
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// Appends a message and moves the conversation's activity time (and preview) to it.
pub async fn insert_message(
    conn: &mut Db,
    conversation_id: Id,
    author: Author,
    operator_id: Option<Id>,
    body: &str,
    now: Millis,
) -> StoreResult<Message> {
    let message: Message = sql::query_as(
        "INSERT INTO messages (conversation_id, author, operator_id, body, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id, conversation_id, author, operator_id, body, created_at",
    )
    .bind(conversation_id)
    .bind(author.as_str())
    .bind(operator_id)
    .bind(body)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    // System notes ("handed to the team") and the AI's answers are activity, but the preview
    // keeps showing what a person last said: the visitor's question tells chats apart in the
    // inbox, the AI's "I couldn't find an answer…" on every handed-over row does not.
    if matches!(author, Author::System | Author::Ai) {
        sql::query("UPDATE conversations SET last_message_at = $1 WHERE id = $2")
            .bind(now)
            .bind(conversation_id)
            .defer(conn)
            .await?;
    } else {
        let preview: String = body.chars().take(PREVIEW_CHARS).collect();
        sql::query("UPDATE conversations SET last_message_at = $1, last_message_preview = $2 WHERE id = $3")
            .bind(now)
            .bind(preview)
            .bind(conversation_id)
            .defer(conn)
            .await?;
    }
    Ok(message)
}

/// The id of the conversation's newest message (0 when it has none).
pub async fn latest_message_id(conn: &mut Db, conversation_id: Id) -> StoreResult<Id> {
    let (id,): (Option<i64>,) =
        sql::query_as("SELECT MAX(id) FROM messages WHERE conversation_id = $1")
            .bind(conversation_id)
            .fetch_one(conn)
            .await?;
    Ok(id.unwrap_or(0))
}

/// AI-handled (`active`) conversations whose newest message is the visitor's: each still waits
/// for the AI's turn (the process that owed it may have stopped). As
/// `(workspace_id, widget_id, id)`.
/// The conversations owing the AI a turn (active, the visitor spoke last) whose last message
/// is older than `before` and which no node has leased, as (workspace, widget, conversation).
pub async fn awaiting_ai(
    conn: &mut Db,
    before: Millis,
    now: Millis,
) -> StoreResult<Vec<(Id, Id, Id)>> {
    Ok(sql::query_as(
        "SELECT workspace_id, widget_id, id FROM conversations c WHERE status = 'active' \
         AND last_message_at < $1 AND (ai_turn_leased_until IS NULL OR ai_turn_leased_until <= $2) \
         AND (SELECT author FROM messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) = 'visitor'",
    )
    .bind(before)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Leases a conversation's owed AI turn to this node until `until`; false when another node
/// holds it.
pub async fn lease_ai_turn(conn: &mut Db, id: Id, now: Millis, until: Millis) -> StoreResult<bool> {
    let done = sql::query(
        "UPDATE conversations SET ai_turn_leased_until = $3 WHERE id = $1 \
         AND (ai_turn_leased_until IS NULL OR ai_turn_leased_until <= $2)",
    )
    .bind(id)
    .bind(now)
    .bind(until)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn messages(conn: &mut Db, conversation_id: Id) -> StoreResult<Vec<Message>> {
    Ok(sql::query_as(
        "SELECT id, conversation_id, author, operator_id, body, created_at FROM messages \
         WHERE conversation_id = $1 ORDER BY id",
    )
    .bind(conversation_id)
    .fetch_all(conn)
    .await?)
}

/// What a visitor sees of a conversation besides the conversation itself: its messages with
/// their authors' names, the name of whoever has it, and the email the visitor left.
pub struct VisitorView {
    pub messages: Vec<(Message, Option<String>)>,
    pub assignee_name: Option<String>,
    pub visitor_email: Option<String>,
}

/// The visitor's view of conversation `id`, whose assignee is `assignee_id`, in one statement
/// (one round trip on PostgreSQL): a row per message, or one row without a message for a
/// conversation that has none, each carrying the assignee's name and the visitor's email.
pub async fn visitor_view(
    conn: &mut Db,
    id: Id,
    assignee_id: Option<Id>,
) -> StoreResult<VisitorView> {
    struct Row {
        assignee_name: Option<String>,
        visitor_email: Option<String>,
        message: Option<(Message, Option<String>)>,
    }
    impl sql::FromRow for Row {
        fn from_row(row: &sql::Row<'_>) -> Result<Row, sql::DbError> {
            Ok(Row {
                assignee_name: row.get("assignee_name")?,
                visitor_email: row.get("visitor_email")?,
                message: match row.get::<Option<Id>>("id")? {
                    None => None,
                    Some(_) => Some((sql::FromRow::from_row(row)?, row.get("operator_name")?)),
                },
            })
        }
    }
    let rows: Vec<Row> = sql::query_as(
        "SELECT x.assignee_name, x.visitor_email, m.id, m.conversation_id, m.author, \
         m.operator_id, m.body, m.created_at, o.name AS operator_name \
         FROM (SELECT (SELECT name FROM operators WHERE id = $2) AS assignee_name, \
         (SELECT email FROM visitors WHERE id = (SELECT visitor_id FROM conversations WHERE id = $1)) \
         AS visitor_email) AS x \
         LEFT JOIN messages m ON m.conversation_id = $1 \
         LEFT JOIN operators o ON o.id = m.operator_id \
         ORDER BY m.id",
    )
    .bind(id)
    .bind(assignee_id)
    .fetch_all(conn)
    .await?;
    let (assignee_name, visitor_email) = rows
        .first()
        .map(|r| (r.assignee_name.clone(), r.visitor_email.clone()))
        .unwrap_or_default();
    Ok(VisitorView {
        messages: rows.into_iter().filter_map(|r| r.message).collect(),
        assignee_name,
        visitor_email,
    })
}

pub struct NewAssignmentEvent {
    pub conversation_id: Id,
    pub from_operator_id: Option<Id>,
    pub to_operator_id: Option<Id>,
    pub reason: AssignmentReason,
    pub actor_id: Option<Id>,
    pub at: Millis,
    /// The routing decision that made it (JSON), when routing did.
    pub decision: Option<String>,
    /// When the chat had been queued since, when routing took it from the queue.
    pub queued_at: Option<Millis>,
    /// How long the chat waited for this routed assignment.
    pub wait_ms: Option<i64>,
}

/// Records an assignment change. Nothing is read back, so on PostgreSQL it goes with the
/// transaction's next statement instead of taking a round trip under the workspace's lock.
pub async fn insert_assignment_event(conn: &mut Db, e: &NewAssignmentEvent) -> StoreResult<()> {
    sql::query(
        "INSERT INTO assignment_events (conversation_id, from_operator_id, to_operator_id, reason, actor_id, at, \
         decision, queued_at, wait_ms, handed_off_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         (SELECT handed_off_at FROM conversations WHERE id = $1))",
    )
    .bind(e.conversation_id)
    .bind(e.from_operator_id)
    .bind(e.to_operator_id)
    .bind(e.reason.as_str())
    .bind(e.actor_id)
    .bind(e.at)
    .bind(e.decision.as_deref())
    .bind(e.queued_at)
    .bind(e.wait_ms)
    .defer(conn)
    .await?;
    Ok(())
}

/// The operator replied at `now`: the first reply after each of their assignments to the chat
/// that had none yet (what the report measures reply times by).
pub async fn note_first_reply(
    conn: &mut Db,
    conversation_id: Id,
    operator_id: Id,
    now: Millis,
) -> StoreResult<()> {
    sql::query(
        "UPDATE assignment_events SET first_reply_at = $1 \
         WHERE conversation_id = $2 AND to_operator_id = $3 AND first_reply_at IS NULL AND at <= $1",
    )
    .bind(now)
    .bind(conversation_id)
    .bind(operator_id)
    .defer(conn)
    .await?;
    Ok(())
}

pub async fn assignment_events(
    conn: &mut Db,
    conversation_id: Id,
) -> StoreResult<Vec<AssignmentEvent>> {
    Ok(sql::query_as(
        "SELECT id, conversation_id, from_operator_id, to_operator_id, reason, actor_id, at, \
         decision, queued_at FROM assignment_events WHERE conversation_id = $1 ORDER BY id",
    )
    .bind(conversation_id)
    .fetch_all(conn)
    .await?)
}

/// Puts the conversation in the queue (`Some(when)`) or takes it out (`None`).
pub async fn set_queued_at(conn: &mut Db, id: Id, queued_at: Option<Millis>) -> StoreResult<()> {
    sql::query("UPDATE conversations SET queued_at = $1 WHERE id = $2")
        .bind(queued_at)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// The workspace's queue (SPEC 9): `handed_off`, unassigned chats of widgets that route
/// automatically, oldest `queued_at` first, through the `conversations_queue` index.
pub async fn queued(conn: &mut Db, workspace_id: Id) -> StoreResult<Vec<QueuedChat>> {
    let rows: Vec<(i64, i64, i64)> = sql::query_as(concat!(
        "SELECT c.id, c.widget_id, c.queued_at FROM conversations c \
         JOIN widgets w ON w.id = c.widget_id \
         WHERE c.workspace_id = $1 AND c.queued_at IS NOT NULL AND ",
        queued_condition!(),
        " ORDER BY c.queued_at, c.id"
    ))
    .bind(workspace_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(conversation_id, widget_id, queued_at)| QueuedChat {
            conversation_id,
            widget_id,
            queued_at,
        })
        .collect())
}

/// Everyone the conversation was ever given to.
pub async fn given_to(conn: &mut Db, conversation_id: Id) -> StoreResult<Vec<Id>> {
    let rows: Vec<(i64,)> = sql::query_as(
        "SELECT DISTINCT to_operator_id FROM assignment_events \
         WHERE conversation_id = $1 AND to_operator_id IS NOT NULL",
    )
    .bind(conversation_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// How long the widget's last `limit` routed chats waited for their assignment, newest first.
pub async fn recent_waits(conn: &mut Db, widget_id: Id, limit: u32) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = sql::query_as(
        "SELECT e.wait_ms FROM assignment_events e JOIN conversations c ON c.id = e.conversation_id \
         WHERE c.widget_id = $1 AND e.wait_ms IS NOT NULL ORDER BY e.id DESC LIMIT $2",
    )
    .bind(widget_id)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(w,)| w).collect())
}

pub async fn set_queue_position(conn: &mut Db, id: Id, position: Option<i64>) -> StoreResult<()> {
    sql::query("UPDATE conversations SET queue_position = $1 WHERE id = $2")
        .bind(position)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// The `handed_off` conversations assigned to the operator, oldest first.
pub async fn handed_off_assigned_to(
    conn: &mut Db,
    workspace_id: Id,
    operator_id: Id,
) -> StoreResult<Vec<Conversation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        conversation_columns!(),
        " FROM conversations WHERE workspace_id = $1 AND assignee_id = $2 \
         AND status = 'handed_off' ORDER BY created_at, id"
    ))
    .bind(workspace_id)
    .bind(operator_id)
    .fetch_all(conn)
    .await?)
}

/// A conversation in line, or one whose visitor was told a place in line and may need telling
/// it is over.
#[derive(Debug, Clone)]
pub struct InLineRow {
    pub id: Id,
    pub visitor_id: Id,
    pub widget_id: Id,
    /// None when it is no longer queued.
    pub queued_at: Option<Millis>,
    /// What its visitor was last told.
    pub queue_position: Option<i64>,
}
from_row!(InLineRow {
    id,
    visitor_id,
    widget_id,
    queued_at,
    queue_position
});

/// The workspace's queued conversations and those whose visitors were last told a place.
pub async fn in_line(conn: &mut Db, workspace_id: Id) -> StoreResult<Vec<InLineRow>> {
    // Two partial indexes, one per half: the queue, and those told a place.
    Ok(sql::query_as(concat!(
        "SELECT c.id, c.visitor_id, c.widget_id, CASE WHEN ",
        queued_condition!(),
        " THEN c.queued_at END AS queued_at, c.queue_position \
         FROM conversations c JOIN widgets w ON w.id = c.widget_id \
         WHERE c.id IN (SELECT id FROM conversations WHERE workspace_id = $1 AND queued_at IS NOT NULL \
                        UNION SELECT id FROM conversations WHERE workspace_id = $1 AND queue_position IS NOT NULL) \
         ORDER BY c.id"
    ))
    .bind(workspace_id)
    .fetch_all(conn)
    .await?)
}
