//! The event log. Rows are appended in the transaction that caused them. On PostgreSQL that
//! transaction also sends a NOTIFY per new event (`append_and_notify`), which PostgreSQL
//! delivers to every node at commit, in commit order. Whether to send it is decided above the
//! store, by the realtime layer's `EventSink`, the one place that knows each backend's event
//! delivery.

use super::Db;
use super::StoreResult;
use super::sql::{self, Bind as _, from_row};
use crate::domain::event::{Event, StoredEvent};
use crate::domain::{Id, Millis};

/// The PostgreSQL notification channel that carries new events between nodes. (Nodes of
/// earlier versions listened on `switchboard_events` for bare ids: a new name keeps them from
/// misreading events for ids.)
pub const NOTIFY_CHANNEL: &str = "switchboard_events_v2";

/// Appends the events, in order; returns them with their ids.
pub async fn append(
    conn: &mut Db,
    events: Vec<Event>,
    now: Millis,
) -> StoreResult<Vec<StoredEvent>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let appended = insert(&events, now, " RETURNING id");
    let mut query = sql::query_as(appended.sql);
    for value in appended.values {
        query = query.bind(value);
    }
    let mut ids: Vec<(i64,)> = query.fetch_all(conn).await?;
    // RETURNING promises no order; the rows took ascending ids in the order of the VALUES.
    ids.sort_unstable();
    Ok(ids
        .into_iter()
        .zip(events)
        .map(|((id,), event)| StoredEvent { id, event })
        .collect())
}

/// PostgreSQL only: appends the events and, once this transaction commits, tells every
/// listening node about each in its own NOTIFY on `NOTIFY_CHANNEL`, in id order (`Notified`
/// reads them back). A NOTIFY carries the whole event when it fits the 8,000-byte payload, so
/// that the listener need not fetch it, else only its id; so does every NOTIFY of a commit of
/// more than `CARRIED_EVENTS` (a queue drained at once), which would otherwise copy megabytes
/// into PostgreSQL's notification queue under the lock all notifying commits share. One
/// deferred statement, so it costs the transaction no round trip of its own.
pub async fn append_and_notify(conn: &mut Db, events: &[Event], now: Millis) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let channel = format!("${}", events.len() * EVENT_COLUMNS + 1);
    let appended = insert(
        events,
        now,
        " RETURNING id, visitor_id, recipient_id, payload",
    );
    let told = if events.len() <= CARRIED_EVENTS {
        format!(
            "CASE WHEN octet_length(payload) <= {CARRIED_PAYLOAD_BYTES} \
             THEN concat_ws(',', id, COALESCE(visitor_id::text, ''), COALESCE(recipient_id::text, ''), payload) \
             ELSE id::text END"
        )
    } else {
        "id::text".to_owned()
    };
    // pg_notify is volatile, so it runs after the ORDER BY, in id order.
    let sql = format!(
        "WITH appended AS ({}) SELECT pg_notify({channel}, {told}) FROM appended ORDER BY id",
        appended.sql
    );
    let mut query = sql::query(sql);
    for value in appended.values {
        query = query.bind(value);
    }
    query.bind(NOTIFY_CHANNEL).defer(conn).await?;
    Ok(())
}

/// The longest event payload a NOTIFY carries whole: with its id, visitor and recipient, well
/// inside PostgreSQL's 8,000 bytes.
const CARRIED_PAYLOAD_BYTES: usize = 7_900;
/// The most events of one commit whose NOTIFYs carry them whole.
const CARRIED_EVENTS: usize = 64;

/// What one NOTIFY of `append_and_notify` says: the event itself, or the id of one too long
/// to carry, which the listener fetches (`by_ids`).
#[derive(Debug)]
pub enum Notified {
    Event(StoredEvent),
    Id(Id),
}

impl Notified {
    /// Reads a payload `id,visitor_id,recipient_id,event JSON` (empty ids are NULL), or a
    /// lone `id`; None for anything else.
    pub fn parse(payload: &str) -> Option<Notified> {
        let mut fields = payload.splitn(4, ',');
        let id = fields.next()?.parse().ok()?;
        let Some(visitor_id) = fields.next() else {
            return Some(Notified::Id(id));
        };
        let optional = |field: &str| match field {
            "" => Some(None),
            id => id.parse().ok().map(Some),
        };
        let row = Row {
            id,
            visitor_id: optional(visitor_id)?,
            recipient_id: optional(fields.next()?)?,
            payload: fields.next()?.to_owned(),
        };
        decode(vec![row]).pop().map(Notified::Event)
    }
}

const EVENT_COLUMNS: usize = 5;

/// One INSERT for all of a transaction's events, and its values.
struct Insert {
    sql: String,
    values: Vec<sql::Value>,
}

fn insert(events: &[Event], now: Millis, returning: &str) -> Insert {
    let rows: Vec<String> = (0..events.len())
        .map(|i| {
            let p = i * EVENT_COLUMNS;
            format!(
                "(${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO events (workspace_id, visitor_id, recipient_id, payload, created_at) VALUES {}{returning}",
        rows.join(", ")
    );
    let mut values = Vec::with_capacity(events.len() * EVENT_COLUMNS);
    for event in events {
        values.extend([
            sql::Bind::into_value(event.workspace_id),
            event.visitor_id.into_value(),
            event.recipient_id.into_value(),
            serde_json::to_string(event)
                .unwrap_or_default()
                .into_value(),
            now.into_value(),
        ]);
    }
    Insert { sql, values }
}

struct Row {
    id: i64,
    visitor_id: Option<i64>,
    recipient_id: Option<i64>,
    payload: String,
}
from_row!(Row {
    id,
    visitor_id,
    recipient_id,
    payload
});

fn decode(rows: Vec<Row>) -> Vec<StoredEvent> {
    rows.into_iter()
        .filter_map(|row| {
            let mut event: Event = serde_json::from_str(&row.payload).ok()?;
            event.visitor_id = row.visitor_id;
            event.recipient_id = row.recipient_id;
            Some(StoredEvent { id: row.id, event })
        })
        .collect()
}

/// The events with these ids, in id order.
pub async fn by_ids(conn: &mut Db, ids: &[Id]) -> StoreResult<Vec<StoredEvent>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(Id::to_string).collect();
    // Only integers went into the list.
    let sql = format!(
        "SELECT id, visitor_id, recipient_id, payload FROM events WHERE id IN ({}) ORDER BY id",
        list.join(",")
    );
    Ok(decode(sql::query_as(sql).fetch_all(conn).await?))
}

/// The newest event id of the workspace (0 when it has none).
pub async fn latest_id(conn: &mut Db, workspace_id: Id) -> StoreResult<Id> {
    let (id,): (Option<i64>,) = sql::query_as("SELECT MAX(id) FROM events WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(conn)
        .await?;
    Ok(id.unwrap_or(0))
}

/// Whether the log still holds event `id` of the workspace (older ones are pruned).
pub async fn retained(conn: &mut Db, workspace_id: Id, id: Id) -> StoreResult<bool> {
    let row: Option<(i64,)> =
        sql::query_as("SELECT id FROM events WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

/// Up to `limit` events of the workspace after `after_id`, oldest first; within one workspace
/// ids follow commit order because every writer holds the workspace lock.
pub async fn after(
    conn: &mut Db,
    workspace_id: Id,
    after_id: Id,
    limit: u32,
) -> StoreResult<Vec<StoredEvent>> {
    let rows = sql::query_as(
        "SELECT id, visitor_id, recipient_id, payload FROM events WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(workspace_id)
    .bind(after_id)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    Ok(decode(rows))
}

/// Forgets events older than `before`.
pub async fn prune(conn: &mut Db, before: Millis) -> StoreResult<u64> {
    let done = sql::query("DELETE FROM events WHERE created_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::EventKind;

    #[test]
    fn a_notification_carries_its_event_or_names_it() {
        let event = Event {
            workspace_id: 1,
            visitor_id: None,
            recipient_id: None,
            at: "2026-12-03T10:00:00Z".to_owned(),
            kind: EventKind::SessionsEnded { operator_id: 4 },
        };
        let json = serde_json::to_string(&event).unwrap();
        let Some(Notified::Event(stored)) = Notified::parse(&format!("17,9,,{json}")) else {
            panic!("the event itself");
        };
        assert_eq!(stored.id, 17);
        assert_eq!(stored.event.visitor_id, Some(9));
        assert_eq!(stored.event.recipient_id, None);
        assert_eq!(stored.event.kind, event.kind);
        assert!(matches!(Notified::parse("17"), Some(Notified::Id(17))));
        for unreadable in ["", "x", "17,x,,{}", "17,,,not json", "17,,"] {
            assert!(Notified::parse(unreadable).is_none(), "{unreadable:?}");
        }
    }
}
