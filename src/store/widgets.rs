use super::Db;
use super::sql::{self, from_row};
use super::{StoreResult, Widget, WidgetWithRouting};
use crate::domain::routing::JoinPosition;
use crate::domain::{Id, Millis, RoutingMode};

macro_rules! widget_columns {
    () => {
        "id, workspace_id, name, public_key, routing_mode, rr_cursor_joined_at, \
                       rr_cursor_operator_id, created_at, allowed_origins, identity_secret, greeting, \
                       reassign_after_secs, auto_close_after_secs"
    };
}

pub async fn insert(
    conn: &mut Db,
    workspace_id: Id,
    name: &str,
    public_key: &str,
    identity_secret: &str,
    now: Millis,
) -> StoreResult<Widget> {
    Ok(sql::query_as(concat!(
        "INSERT INTO widgets (workspace_id, name, public_key, identity_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING ",
        widget_columns!()
    ))
    .bind(workspace_id)
    .bind(name)
    .bind(public_key)
    .bind(identity_secret)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// The widget with this id, only if it belongs to `workspace_id`.
pub async fn get(conn: &mut Db, workspace_id: Id, id: Id) -> StoreResult<Option<Widget>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        widget_columns!(),
        " FROM widgets WHERE id = $1 AND workspace_id = $2"
    ))
    .bind(id)
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn by_key(conn: &mut Db, public_key: &str) -> StoreResult<Option<Widget>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        widget_columns!(),
        " FROM widgets WHERE public_key = $1"
    ))
    .bind(public_key)
    .fetch_optional(conn)
    .await?)
}

pub async fn list(conn: &mut Db, workspace_id: Id) -> StoreResult<Vec<WidgetWithRouting>> {
    let widgets: Vec<Widget> = sql::query_as(concat!(
        "SELECT ",
        widget_columns!(),
        " FROM widgets WHERE workspace_id = $1 ORDER BY id"
    ))
    .bind(workspace_id)
    .fetch_all(&mut *conn)
    .await?;
    let pairs: Vec<(i64, i64)> = sql::query_as(
        "SELECT e.widget_id, e.operator_id FROM widget_eligible_operators e \
         JOIN widgets w ON w.id = e.widget_id WHERE w.workspace_id = $1 ORDER BY e.operator_id",
    )
    .bind(workspace_id)
    .fetch_all(conn)
    .await?;
    Ok(widgets
        .into_iter()
        .map(|widget| {
            let eligible_operator_ids = pairs
                .iter()
                .filter(|(w, _)| *w == widget.id)
                .map(|(_, o)| *o)
                .collect();
            WidgetWithRouting {
                widget,
                eligible_operator_ids,
            }
        })
        .collect())
}

pub async fn eligible_operator_ids(conn: &mut Db, widget_id: Id) -> StoreResult<Vec<Id>> {
    let rows: Vec<(i64,)> = sql::query_as(
        "SELECT operator_id FROM widget_eligible_operators WHERE widget_id = $1 ORDER BY operator_id",
    )
    .bind(widget_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub async fn with_routing(conn: &mut Db, widget: Widget) -> StoreResult<WidgetWithRouting> {
    let eligible_operator_ids = eligible_operator_ids(conn, widget.id).await?;
    Ok(WidgetWithRouting {
        widget,
        eligible_operator_ids,
    })
}

/// Replaces the routing settings. `eligible` must already be checked to be operators of the
/// widget's workspace.
pub async fn set_routing(
    conn: &mut Db,
    widget_id: Id,
    mode: RoutingMode,
    eligible: &[Id],
) -> StoreResult<()> {
    sql::query("UPDATE widgets SET routing_mode = $1 WHERE id = $2")
        .bind(mode.as_str())
        .bind(widget_id)
        .defer(&mut *conn)
        .await?;
    sql::query("DELETE FROM widget_eligible_operators WHERE widget_id = $1")
        .bind(widget_id)
        .defer(&mut *conn)
        .await?;
    for operator_id in eligible {
        sql::query(
            "INSERT INTO widget_eligible_operators (widget_id, operator_id) VALUES ($1, $2)",
        )
        .bind(widget_id)
        .bind(operator_id)
        .defer(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sets the widget's timers (None = off), in seconds.
pub async fn set_timers(
    conn: &mut Db,
    widget_id: Id,
    reassign_after_secs: Option<i64>,
    auto_close_after_secs: Option<i64>,
) -> StoreResult<()> {
    sql::query(
        "UPDATE widgets SET reassign_after_secs = $1, auto_close_after_secs = $2 WHERE id = $3",
    )
    .bind(reassign_after_secs)
    .bind(auto_close_after_secs)
    .bind(widget_id)
    .defer(conn)
    .await?;
    Ok(())
}

pub async fn set_rr_cursor(conn: &mut Db, widget_id: Id, cursor: JoinPosition) -> StoreResult<()> {
    sql::query(
        "UPDATE widgets SET rr_cursor_joined_at = $1, rr_cursor_operator_id = $2 WHERE id = $3",
    )
    .bind(cursor.joined_at)
    .bind(cursor.id)
    .bind(widget_id)
    .defer(conn)
    .await?;
    Ok(())
}

/// Replaces the origins the widget may be embedded on (empty = any).
pub async fn set_allowed_origins(
    conn: &mut Db,
    widget_id: Id,
    origins: &[String],
) -> StoreResult<()> {
    sql::query("UPDATE widgets SET allowed_origins = $1 WHERE id = $2")
        .bind(origins.join("\n"))
        .bind(widget_id)
        .defer(conn)
        .await?;
    Ok(())
}

pub async fn set_name(conn: &mut Db, widget_id: Id, name: &str) -> StoreResult<()> {
    sql::query("UPDATE widgets SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(widget_id)
        .defer(conn)
        .await?;
    Ok(())
}

/// Sets what the widget says when it opens (`None` = the default greeting).
pub async fn set_greeting(conn: &mut Db, widget_id: Id, greeting: Option<&str>) -> StoreResult<()> {
    sql::query("UPDATE widgets SET greeting = $1 WHERE id = $2")
        .bind(greeting)
        .bind(widget_id)
        .defer(conn)
        .await?;
    Ok(())
}

/// A knowledge-base article: a question visitors ask and its answer.
#[derive(Debug, Clone)]
pub struct Article {
    pub id: Id,
    pub widget_id: Id,
    pub question: String,
    pub answer: String,
    pub created_at: Millis,
}
from_row!(Article {
    id,
    widget_id,
    question,
    answer,
    created_at
});

pub async fn articles(conn: &mut Db, widget_id: Id) -> StoreResult<Vec<Article>> {
    Ok(sql::query_as(
        "SELECT id, widget_id, question, answer, created_at FROM kb_articles WHERE widget_id = $1 ORDER BY id",
    )
    .bind(widget_id)
    .fetch_all(conn)
    .await?)
}

/// Whether article `id` is one of the widget's.
pub async fn has_article(conn: &mut Db, widget_id: Id, id: Id) -> StoreResult<bool> {
    let found: Option<(i64,)> =
        sql::query_as("SELECT id FROM kb_articles WHERE widget_id = $1 AND id = $2")
            .bind(widget_id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

pub async fn insert_article(
    conn: &mut Db,
    widget_id: Id,
    question: &str,
    answer: &str,
    now: Millis,
) -> StoreResult<Article> {
    Ok(sql::query_as(
        "INSERT INTO kb_articles (widget_id, question, answer, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id, widget_id, question, answer, created_at",
    )
    .bind(widget_id)
    .bind(question)
    .bind(answer)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Updates an article of the widget; `None` when the widget has no such article.
pub async fn update_article(
    conn: &mut Db,
    widget_id: Id,
    id: Id,
    question: &str,
    answer: &str,
) -> StoreResult<Option<Article>> {
    Ok(sql::query_as(
        "UPDATE kb_articles SET question = $1, answer = $2 WHERE id = $3 AND widget_id = $4 \
         RETURNING id, widget_id, question, answer, created_at",
    )
    .bind(question)
    .bind(answer)
    .bind(id)
    .bind(widget_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn delete_article(conn: &mut Db, widget_id: Id, id: Id) -> StoreResult<bool> {
    let done = sql::query("DELETE FROM kb_articles WHERE id = $1 AND widget_id = $2")
        .bind(id)
        .bind(widget_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
