use super::Db;
use super::notifications::{Channels, Reach};
use super::sql::{self, DbError, from_row};
use super::{Operator, OperatorWithLoad, StoreResult};
use crate::domain::routing::{JoinPosition, WidgetRouting};
use crate::domain::{Availability, AvailabilityReason, Id, Millis, Role, RoutingMode};

/// The columns of an `Operator`, for every query that reads one.
macro_rules! operator_columns {
    () => {
        "id, workspace_id, name, email, role, availability, last_assigned_at, created_at, \
         capacity, deactivated_at, availability_reason, open_tabs, had_tab"
    };
}
pub(super) use operator_columns;

/// What an `OperatorWithLoad` reads of `operators` after an operator's own columns: the load
/// and how they can be reached (`notifications::Reach`).
macro_rules! load_and_reach_columns {
    () => {
        "open_load AS load, notify_push, notify_email, notify_email_delay_secs, \
         CASE WHEN EXISTS (SELECT 1 FROM push_subscriptions s \
         WHERE s.operator_id = operators.id) THEN 1 ELSE 0 END AS push_subscribed"
    };
}

pub struct NewOperator<'a> {
    pub workspace_id: Id,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

pub async fn insert(conn: &mut Db, new: NewOperator<'_>, now: Millis) -> StoreResult<Operator> {
    Ok(sql::query_as(concat!(
        "INSERT INTO operators (workspace_id, name, email, password_hash, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        operator_columns!()
    ))
    .bind(new.workspace_id)
    .bind(new.name)
    .bind(new.email)
    .bind(new.password_hash)
    .bind(new.role.as_str())
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// The operator with this id, only if they belong to `workspace_id`.
pub async fn get(conn: &mut Db, workspace_id: Id, id: Id) -> StoreResult<Option<Operator>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        operator_columns!(),
        " FROM operators WHERE id = $1 AND workspace_id = $2"
    ))
    .bind(id)
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?)
}

/// The active operators with this (normalised) email, one per workspace at most, with their
/// password hashes, for signing in; oldest first. Deactivated ones are left out, so signing in
/// as one is refused like a wrong password.
pub async fn by_email_with_hash(
    conn: &mut Db,
    email: &str,
) -> StoreResult<Vec<(Operator, String)>> {
    struct Row {
        operator: Operator,
        password_hash: String,
    }
    from_row!(Row {
        operator: flattened,
        password_hash
    });
    let rows: Vec<Row> = sql::query_as(concat!(
        "SELECT ",
        operator_columns!(),
        ", password_hash FROM operators WHERE email = $1 AND deactivated_at IS NULL ORDER BY id"
    ))
    .bind(email)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.operator, r.password_hash))
        .collect())
}

/// The workspace's operators in join order, each with their load: open (`active` or
/// `handed_off`) conversations assigned to them across the workspace, which the database
/// counts as conversations change (`operators.open_load`, kept by triggers), so reading it
/// costs the same however many chats are open.
pub async fn list_with_loads(
    conn: &mut Db,
    workspace_id: Id,
) -> StoreResult<Vec<OperatorWithLoad>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        operator_columns!(),
        ", ",
        load_and_reach_columns!(),
        " FROM operators WHERE workspace_id = $1 ORDER BY created_at, id"
    ))
    .bind(workspace_id)
    .fetch_all(conn)
    .await?)
}

/// An operator's columns followed by `load_and_reach_columns`.
impl sql::FromRow for OperatorWithLoad {
    fn from_row(row: &sql::Row<'_>) -> Result<OperatorWithLoad, DbError> {
        Ok(OperatorWithLoad {
            operator: sql::FromRow::from_row(row)?,
            load: row.get::<i64>("load")?.max(0) as u64,
            reach: Reach {
                channels: Channels::from_columns((
                    row.get("notify_push")?,
                    row.get("notify_email")?,
                    row.get("notify_email_delay_secs")?,
                )),
                push_subscribed: row.get::<i64>("push_subscribed")? != 0,
            },
        })
    }
}

/// Everything a routing decision for a chat of `widget_id` reads, in one statement (one round
/// trip under the workspace's lock on PostgreSQL): the widget's settings and cursor, the team
/// with their loads and reach (`list_with_loads`), and the ones the widget names as eligible.
/// None when the workspace has no such widget.
pub async fn routing_inputs(
    conn: &mut Db,
    workspace_id: Id,
    widget_id: Id,
) -> StoreResult<Option<RoutingInputs>> {
    struct Row {
        routing_mode: RoutingMode,
        rr_cursor_joined_at: Option<Millis>,
        rr_cursor_operator_id: Option<Id>,
        reassign_after_secs: Option<i64>,
        /// None on the one row of a workspace without operators.
        member: Option<(OperatorWithLoad, bool)>,
    }
    impl sql::FromRow for Row {
        fn from_row(row: &sql::Row<'_>) -> Result<Row, DbError> {
            Ok(Row {
                routing_mode: row.parsed("w_routing_mode")?,
                rr_cursor_joined_at: row.get("w_rr_cursor_joined_at")?,
                rr_cursor_operator_id: row.get("w_rr_cursor_operator_id")?,
                reassign_after_secs: row.get("w_reassign_after_secs")?,
                member: match row.get::<Option<i64>>("w_member")? {
                    None => None,
                    Some(_) => Some((
                        sql::FromRow::from_row(row)?,
                        row.get::<i64>("eligible")? != 0,
                    )),
                },
            })
        }
    }
    // The widget's columns are renamed (`w_…`), so the operators' keep their own names.
    let rows: Vec<Row> = sql::query_as(concat!(
        "SELECT w.*, operators.id AS w_member, ",
        operator_columns!(),
        ", ",
        load_and_reach_columns!(),
        ", CASE WHEN EXISTS (SELECT 1 FROM widget_eligible_operators e \
         WHERE e.widget_id = $2 AND e.operator_id = operators.id) THEN 1 ELSE 0 END AS eligible \
         FROM (SELECT routing_mode AS w_routing_mode, rr_cursor_joined_at AS w_rr_cursor_joined_at, \
         rr_cursor_operator_id AS w_rr_cursor_operator_id, reassign_after_secs AS w_reassign_after_secs \
         FROM widgets WHERE id = $2 AND workspace_id = $1) AS w \
         LEFT JOIN operators ON operators.workspace_id = $1 \
         ORDER BY operators.created_at, operators.id"
    ))
    .bind(workspace_id)
    .bind(widget_id)
    .fetch_all(conn)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut routing = WidgetRouting {
        widget_id,
        mode: first.routing_mode,
        eligible: Vec::new(),
        cursor: JoinPosition::of(first.rr_cursor_joined_at, first.rr_cursor_operator_id),
    };
    let reassign_after_secs = first.reassign_after_secs;
    let mut members = Vec::with_capacity(rows.len());
    for (member, eligible) in rows.into_iter().filter_map(|row| row.member) {
        if eligible {
            routing.eligible.push(member.operator.id);
        }
        members.push(member);
    }
    routing.eligible.sort_unstable();
    Ok(Some(RoutingInputs {
        routing,
        reassign_after_secs,
        members,
    }))
}

/// What `routing_inputs` reads.
pub struct RoutingInputs {
    /// The widget's mode, cursor and eligible operators (ascending ids).
    pub routing: WidgetRouting,
    /// Route an unanswered routed chat again after this long; None = off.
    pub reassign_after_secs: Option<i64>,
    /// The team in join order, with their loads and how each can be told of a chat.
    pub members: Vec<OperatorWithLoad>,
}

pub async fn existing_in_workspace(
    conn: &mut Db,
    workspace_id: Id,
    ids: &[Id],
) -> StoreResult<Vec<Id>> {
    let all: Vec<(i64,)> = sql::query_as("SELECT id FROM operators WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_all(conn)
        .await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| all.iter().any(|(a,)| a == id))
        .collect())
}

/// Sets presence and why; `had_tab` says whether they have had an inbox tab open since.
pub async fn set_availability(
    conn: &mut Db,
    id: Id,
    availability: Availability,
    reason: AvailabilityReason,
    had_tab: bool,
) -> StoreResult<()> {
    sql::query(
        "UPDATE operators SET availability = $1, availability_reason = $2, had_tab = $3 WHERE id = $4",
    )
    .bind(availability.as_str())
    .bind(reason.as_str())
    .bind(i64::from(had_tab))
    .bind(id)
    .defer(conn)
    .await?;
    Ok(())
}

/// Counts an inbox tab opened (`+1`) or closed (`-1`), never below zero.
pub async fn count_tab(conn: &mut Db, id: Id, delta: i64) -> StoreResult<()> {
    sql::query(
        "UPDATE operators SET open_tabs = CASE WHEN open_tabs + $1 < 0 THEN 0 ELSE open_tabs + $1 END, \
         had_tab = CASE WHEN $1 > 0 THEN 1 ELSE had_tab END WHERE id = $2",
    )
    .bind(delta)
    .bind(id)
    .defer(conn)
    .await?;
    Ok(())
}

pub async fn set_last_assigned(conn: &mut Db, id: Id, at: Millis) -> StoreResult<()> {
    sql::query("UPDATE operators SET last_assigned_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// The workspace the operator belongs to.
pub async fn workspace_of(conn: &mut Db, id: Id) -> StoreResult<Option<Id>> {
    let row: Option<(i64,)> = sql::query_as("SELECT workspace_id FROM operators WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// The operator of `workspace_id` with this (normalised) email, active or not.
pub async fn by_email_in_workspace(
    conn: &mut Db,
    workspace_id: Id,
    email: &str,
) -> StoreResult<Option<Operator>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        operator_columns!(),
        " FROM operators WHERE workspace_id = $1 AND email = $2"
    ))
    .bind(workspace_id)
    .bind(email)
    .fetch_optional(conn)
    .await?)
}

/// The active operators with this (normalised) email, one per workspace at most, oldest first.
pub async fn active_by_email(conn: &mut Db, email: &str) -> StoreResult<Vec<Operator>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        operator_columns!(),
        " FROM operators WHERE email = $1 AND deactivated_at IS NULL ORDER BY id"
    ))
    .bind(email)
    .fetch_all(conn)
    .await?)
}

pub async fn password_hash(conn: &mut Db, id: Id) -> StoreResult<String> {
    let (hash,): (String,) = sql::query_as("SELECT password_hash FROM operators WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(hash)
}

pub async fn set_password_hash(conn: &mut Db, id: Id, password_hash: &str) -> StoreResult<()> {
    sql::query("UPDATE operators SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// Writes what a teammate's profile says: name, role and capacity (None = no limit).
pub async fn set_profile(
    conn: &mut Db,
    id: Id,
    name: &str,
    role: Role,
    capacity: Option<i64>,
) -> StoreResult<()> {
    sql::query("UPDATE operators SET name = $1, role = $2, capacity = $3 WHERE id = $4")
        .bind(name)
        .bind(role.as_str())
        .bind(capacity)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// Deactivates (`Some(when)`) or reactivates (`None`) an operator.
pub async fn set_deactivated(
    conn: &mut Db,
    id: Id,
    deactivated_at: Option<Millis>,
) -> StoreResult<()> {
    sql::query("UPDATE operators SET deactivated_at = $1 WHERE id = $2")
        .bind(deactivated_at)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// How many active owners the workspace has.
pub async fn active_owners(conn: &mut Db, workspace_id: Id) -> StoreResult<u64> {
    let (n,): (i64,) = sql::query_as(
        "SELECT COUNT(*) FROM operators WHERE workspace_id = $1 AND role = 'owner' AND deactivated_at IS NULL",
    )
    .bind(workspace_id)
    .fetch_one(conn)
    .await?;
    Ok(n.max(0) as u64)
}

/// Counts every open tab closed, arming the presence deadline (`due_at`) of each Available
/// operator who had one open: for a single node starting after it died with tabs open.
pub async fn forget_open_tabs(conn: &mut Db, due_at: Millis) -> StoreResult<()> {
    sql::query(
        "INSERT INTO timers (workspace_id, kind, subject_id, due_at) \
         SELECT workspace_id, 'presence', id, $1 FROM operators \
         WHERE open_tabs > 0 AND had_tab = 1 AND availability = 'available' AND deactivated_at IS NULL \
         ON CONFLICT (kind, subject_id) DO UPDATE SET due_at = excluded.due_at",
    )
    .bind(due_at)
    .defer(&mut *conn)
    .await?;
    sql::query("UPDATE operators SET open_tabs = 0 WHERE open_tabs > 0")
        .defer(conn)
        .await?;
    Ok(())
}
